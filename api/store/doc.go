// Package store persists swarmrun's objects (Recipes, TestRuns, Repositories) and their
// events in one bbolt file: create, get, list, update with optimistic concurrency on
// resourceVersion, status written through its own call, server-side apply, deletion that
// honours finalizers, and a watch that delivers every change after a resourceVersion, in
// order.
//
// Events are bounded: so many per object, and a reason and message of so many bytes each.
// They are listed per object or all together, and watched from now on (they carry no
// resourceVersion).
//
// Every acknowledged write has been committed and synced to disk, so a killed process loses
// none of them. A slow watcher never blocks writers: past a bounded buffer it is told to
// re-list.
//
// The store knows nothing of Docker, of HTTP or of what a TestRun means; it must not log, and
// it must not validate specs beyond what keeping objects needs (the API server validates).
package store
