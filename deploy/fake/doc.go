// Package fake is an in-memory deploy.Engine: a single-node Docker Swarm that swarmrun's unit
// tests, convergence tests and benchmarks run against instead of a real engine.
//
// It models what swarmrun relies on, as Engine 20.10 and swarmkit behave: services with
// versioned updates ("update out of sequence" on a stale version), tasks per slot that move
// through the task states, rolling updates with their UpdateStatus (updating, completed,
// paused, rollback_started, rollback_completed), restart policies, jobs, networks, secrets,
// configs and volumes with the engine's name-conflict, not-found and in-use errors (the same
// errdefs classes the Docker client reports), images present or missing ("No such image"),
// events, task containers, exec and service logs. The contract suite in deploy/enginetest runs
// against both this fake and the real engine, so the two cannot drift apart.
//
// Time is injected (Options.Now, Clock) and progress is either automatic (every call first
// brings the simulated swarm up to the clock's time, in order: tasks of a present image reach
// running at once, restart delays and monitor periods pass with the clock) or explicit
// (Options.Manual, then Step or Settle). Options.FastRollouts skips monitor periods for
// throughput benchmarks on the wall clock. Tests inject failures with FailNext and SetHook,
// count calls with Calls, and script behaviours: AddImage, CrashImage, CrashService, CrashWhen,
// NeverHealthy, SetExec, SetLogs, SetDistribution, AddVolume.
//
// Not modelled: more than one node, placement, ports and the routing mesh, secrets' and
// configs' content in containers, event history (Events streams only what happens after the
// call; Since and Until are ignored), follow mode of ServiceLogs.
//
// The fake is safe for concurrent use. It must not import anything of swarmrun but deploy's
// Engine contract (and deploy/internal/servicemode's mode names), and it never talks to a
// real engine.
package fake
