// Package reconcile holds swarmrun's reconcilers and the pure planning they build on.
//
// The planners (upgrade base resolution in base.go, the level ladder in level.go) are pure
// functions of their inputs: they read no clock, no swarm and no git repository, so that
// every rule is table-tested and guarded by property tests. The reconcilers observe through
// deploy, plan with these functions, apply through deploy and write status.
//
// reconcile must not sleep, retry or loop on backoff (the controller does that), and must
// not import the Docker SDK: swarm access goes through the deploy package.
package reconcile
