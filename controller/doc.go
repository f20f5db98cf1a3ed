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
// controller must not know what a TestRun or a Recipe contains (it sees kinds, names and
// object metadata only), must not import the Docker SDK (event streams are adapted in deploy
// and cmd), and must not decide policy. It never builds itself into a program: cmd does.
package controller
