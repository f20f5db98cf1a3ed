// Package deploy converges live Docker Swarm stacks to compose definitions.
//
// It is the only package of swarmrun that imports the Docker SDK. It renders compose files
// with the loader and converter that `docker stack deploy` uses, applies the result (networks,
// secrets, configs, services), prunes the services a render no longer declares, waits for true
// convergence, removes stacks and observes them. Every call to the engine goes through the
// narrow Engine interface, so the in-memory fake in deploy/fake can stand in for it.
//
// deploy decides no policy: which version to deploy, when to prune or tear down, and what a
// failure means for a run belong to the reconcilers.
package deploy
