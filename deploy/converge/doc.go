// Package converge knows for certain when the services of a stack have converged, or why not.
//
// Wait judges all target services at once, in one observation per look (services, all their
// tasks, the tasks the engine reports up to date, nodes), under one overall bound. It wakes on
// the engine's service, node and container events, looks again at short growing delays after
// each event (the manager records task states a little after the node's events), and polls as a
// fallback. Events only wake it; listing decides.
//
// Judge is the pure decision for one service; see its documentation for what converged means
// per mode. The rules that differ from `docker service create/update --detach=false`:
//
//   - A rollback is a failure (RolledBack), as are paused updates (UpdatePaused): docker
//     reports a rolled back update as success. A spec update resets the update state, so a
//     state is this apply's when the service's version moved past the version recorded
//     before applying (Target.PrevVersion); a stale state on a service this apply did not
//     change never fails it.
//   - A rejected task of the current spec fails fast: ImageNotFound when the error says the
//     image is missing (the engine would retry it every 5 s forever), TaskRejected otherwise.
//     Tasks that keep failing (a crash or health loop) fail as TaskFailed or Unhealthy after
//     Policy.MaxFailures consecutive failures in one slot, or at once when the restart policy
//     means the engine will not try again.
//   - The newest task of each slot decides, not the one desired running: replacements wait in
//     desired state "ready". Only tasks of the current spec count (the engine's own up-to-date
//     test), on nodes that are not down or drained, and the wait goes on while a task of the
//     previous spec is still meant to run.
//
// Stability. A crash-looping task shows "running" for a few hundred milliseconds, so one
// observation proves nothing. A service converges once all its current tasks have been
// running for a window, timed from each task's status timestamp, so a service that already
// ran before the wait began converges at the first look and a new one converges as soon as the
// window has passed, not one poll later. The default window is the service's update monitor
// period (5 s unless UpdateConfig.Monitor says otherwise): the engine watches an update for
// failures that long and may roll it back within it, so reporting success earlier could be
// contradicted by the engine. With a healthcheck a task turns "running" only once healthy,
// which the engine first probes one interval after the start; that interval already counts
// towards the window, which shrinks to monitor minus interval (zero for the default 30 s
// interval: healthy is proof enough). Options.Stable sets a fixed window instead; a negative
// value makes running (healthy) enough. The status timestamps come from the node's clock: on a
// multi-node swarm, a node whose clock runs behind shortens the window by that skew.
//
// Global services: Judge does not evaluate placement constraints. Without constraints every
// ready, active node must run a task; with them, the nodes that hold a task of the current
// spec must.
//
// converge only reads the engine: it never changes a service, retries an apply or sleeps
// outside Wait's loop, and it decides no policy about what a failure means for a run.
package converge
