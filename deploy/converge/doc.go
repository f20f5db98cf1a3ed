// Package converge knows for certain when the services of a stack have converged, or why not.
//
// Wait judges all target services at once, in one observation per look (the services, all
// their tasks, the tasks the engine reports up to date, the nodes), under one overall bound.
// It wakes on the engine's service, node and container events, looks again at short growing
// delays after each event (the manager records a task's state a little after the node's
// container event, and nothing announces that record), wakes exactly when a stability window
// ends, and polls as a fallback (also while the event stream is down). Events only wake it;
// listing decides. Container events are node-local: on a multi-node swarm, task changes on
// other nodes are seen by the echoes of service events and by polling. Measured on a
// single-node swarm: convergence is seen within tens of milliseconds of an independent 50 ms
// poller.
//
// Success means every service is converged in the same look: a service that converged
// earlier is judged again at every look, so one that breaks (or that the engine rolls back)
// while another is still converging fails the wait instead of being remembered as converged.
//
// Judge is the pure decision for one service; see its documentation for what converged means
// per mode. Where it differs from `docker service create/update --detach=false`:
//
//   - A rollback is a failure (RolledBack), as is a paused update (UpdatePaused): docker
//     reports a rolled back update as success. A spec update resets the update state, so a
//     state is this apply's when the service's version moved past the version recorded
//     before applying (Target.PrevVersion); a stale state on a service this apply did not
//     change never fails it.
//   - A rejected task of the current spec fails at once: ImageNotFound when the error says
//     the image is missing (the engine would retry it every 5 s forever), TaskRejected
//     otherwise. Tasks that keep ending (a crash or health loop) fail as TaskFailed or
//     Unhealthy after Policy.MaxFailures consecutive ends in one slot, or at once when the
//     restart policy means the engine will not try again. A task of a long-running service
//     that exits 0 has ended too. The engine records a task it killed for being unhealthy
//     like any exit (here: "complete", exit 0, no error), so Wait keeps the health_status
//     events of the node's containers to tell a health loop from a crash loop; on other nodes
//     such a loop is reported as TaskFailed.
//   - The newest task of each slot decides, not the one desired running: replacements wait in
//     desired state "ready". Only tasks of the current spec count, on nodes that are not down
//     or drained, and the wait goes on while a task of the previous spec is still meant to
//     run. "Current spec" is the engine's own test (the task list filter "_up-to-date", which
//     also sees published-port changes the task API does not show); for an engine without
//     that filter observe compares task specs itself, a comparison kept honest by a test
//     against the engine.
//
// Stability. A crash-looping task shows "running" for a few hundred milliseconds, so one
// observation proves nothing. A service converges once all its current tasks have run for a
// window, timed from the later of each task's status timestamp and the moment Wait first saw
// it running (the manager learns of a crash a little late, and under load that lag would
// otherwise eat into the window). Tasks already running at Wait's first look keep their
// timestamp, so a service that ran before the wait converges at once.
//
// The default window is the service's update monitor period (5 s unless
// UpdateConfig.Monitor says otherwise): the engine watches an update for failures that long
// and may roll it back within it, so reporting success earlier could be contradicted by the
// engine. With a healthcheck a task turns "running" only once healthy, which the engine first
// probes one interval after the start; that interval already counts towards the window, which
// shrinks to monitor minus interval (zero for the default 30 s interval: healthy is proof
// enough). Options.Stable sets a fixed window instead; a negative value makes running
// (healthy) enough. Status timestamps come from the node's clock: on a multi-node swarm, a
// node whose clock runs behind can shorten the window of a task already running at the first
// look by that skew.
//
// Global services: Judge does not evaluate placement constraints. Without constraints every
// ready, active node must run a task; with them, the nodes that hold a task of the current
// spec must.
//
// converge only reads the engine: it never changes a service, retries an apply or sleeps
// outside Wait's loop, logs no errors it returns, and decides no policy about what a failure
// means for a run.
package converge
