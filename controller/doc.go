// Package controller is swarmrun's generic reconcile driver: it turns a stream of "something
// about this key may have changed" signals into calls of a Reconciler, one key at a time.
//
// It owns everything around the call: a de-duplicating rate-limited queue (client-go's
// workqueue), a bounded number of workers, per-key exponential backoff on error, a periodic
// resync of the keys it has seen, sources that feed the queue (StoreSource, the one
// list-watch-relist loop over the object store for every kind, mapping each change to the
// keys it wakes; Docker event streams mapped through an EventMapper; periodic listings),
// recovery from panics in a Reconciler and a timeout on every call. Reconcilers therefore
// never sleep, retry or loop: they take one step, and the driver decides what happens next
// from the one switch over their result (see Controller): again at once (Requeue, behind the
// keys already waiting), after a while (RequeueAfter), after a backoff (an error), or not.
//
// The same key is never reconciled by two workers at once, and a key enqueued many times
// before a worker takes it is reconciled once. Reconciliation is level-based: a Request
// carries only an object's key, never the event that woke it, so a reconciler re-reads
// desired and observed state on every call, and a restart that loses the queue loses nothing
// that an initial listing does not bring back.
//
// # Metrics and logs
//
// With Options.Metrics set, a running controller exposes the families controller-runtime
// exposes, under the same names and labels, so that dashboards and alerts written for
// Kubernetes controllers read swarmrun's unchanged: controller_runtime_reconcile_total
// {controller, result=success|requeue|requeue_after|error}, controller_runtime_reconcile_errors_total,
// controller_runtime_terminal_reconcile_errors_total, controller_runtime_reconcile_panics_total,
// controller_runtime_reconcile_time_seconds (histogram), controller_runtime_max_concurrent_reconciles
// and controller_runtime_active_workers, each labelled controller; and client-go's workqueue
// metrics (workqueue_depth, workqueue_adds_total, workqueue_retries_total,
// workqueue_queue_duration_seconds, workqueue_work_duration_seconds,
// workqueue_unfinished_work_seconds, workqueue_longest_running_processor_seconds), labelled
// name and controller. The queue gets them through its own MetricsProvider, never through
// client-go's process-wide one: the registry is the caller's, and nothing is global.
//
// Every reconcile ends in one log line, "reconcile done", with controller, kind, name,
// reconcileID, result, duration and, as they apply, requeueAfter, backoff, failures and the
// error: at V(0) (through Error) for errors, at V(1) for the rest.
//
// controller must not know what a TestRun or a Recipe contains (it sees kinds, names and
// object metadata only), must not import the Docker SDK (event streams are adapted in deploy
// and cmd), and must not decide policy. It never builds itself into a program: cmd does.
package controller
