// Package checks runs a recipe's checks against a live stack: an http check requests a path of
// a service from inside the stack's network, an exec check runs a command in a running task
// container, a job check runs a one-shot task of any image on the stack's networks.
//
// One-shot tasks run as replicated services with restart condition "none", created for one
// check and removed right after it. They are not swarm jobs on purpose: the engine keeps the
// tasks of a removed job service in its store for good, so a long-lived controller running
// checks as jobs would accumulate them without bound; a removed replicated service takes its
// tasks with it.
//
// In-stack addresses use tasks.<service> (DNS to the task IPs), which works with or without
// IPVS. Exec checks reach task containers through the local engine, so they need the target
// task on the node swarmrun talks to (always true on a single-node swarm).
//
// checks decides no policy: which checks run, and what a failure means, belong to the
// reconciler.
package checks
