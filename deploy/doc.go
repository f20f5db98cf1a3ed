// Package deploy converges live Docker Swarm stacks to compose definitions.
//
// It is the only package of swarmrun that imports the Docker SDK. It renders compose files
// with the loader and converter that `docker stack deploy` uses (deploy/render), applies the
// result (networks, secrets, configs, services), prunes the services a render no longer
// declares, waits for true convergence (deploy/converge), removes stacks and observes them.
// Every call to the engine goes through the narrow Engine interface, so the in-memory fake in
// deploy/fake can stand in for it.
//
// A Deployer applies a render the way `docker stack deploy --resolve-image never` does, with
// three differences an operator can rely on: it fails before touching anything when an image,
// an external object or an immutable secret or config is wrong; it makes no update call for a
// service whose spec is unchanged (recorded in the swarmrun.dev/spec-digest label), so
// re-applying restarts nothing; and a prune happens after the new spec is applied, from a
// listing that is never silently empty. Stack membership is the com.docker.stack.namespace
// label and nothing else.
//
// Membership is not ownership: anyone can put the namespace label on anything, and a stack
// name can be forged. Apply, Prune and Remove take an Owner, the labels that name the caller
// (a TestRun, a warm stack), and then touch only the live objects that carry them: Apply
// refuses, before changing anything, a stack holding an object it would update or reuse
// that is not the owner's; Prune and Remove leave such objects alone. Either way they say so
// with a *NotOwnedError, never with a deletion. The zero Owner keeps docker's rule, for an
// operator's own stacks and for callers that checked ownership themselves.
//
// deploy decides no policy: which version to deploy, when to prune or tear down, and what a
// failure means for a run belong to the reconcilers. It does not retry (the controller does),
// log errors it returns, or keep state between calls: each call re-reads the swarm.
package deploy
