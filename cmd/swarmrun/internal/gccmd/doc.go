// Package gccmd is `swarmrun gc`, the garbage collector on the command line. (serve's
// periodic pass is wired in cmd/swarmrun/internal/app.)
//
// gc reads the Recipes and TestRuns that own the swarm's stacks from the API server when one
// answers (--server, or the socket under --data-dir), and otherwise from the store file under
// --data-dir, which it opens like serve does (and so cannot while a serve holds it) and
// writes only events to. It never runs on an empty or missing store: without the objects
// every labelled stack would look orphaned.
//
// Unlabelled stacks are never removed, but for --adopt-warm: an unlabelled warm-<recipe>
// stack, or warm-<recipe>_<domain> as abra names apps, goes only when that Recipe exists and
// has no canonical record (warm.Classify). A stack naming no existing Recipe is reported.
//
// Exit codes, like diff: with --dry-run, 0 when nothing is stale, 1 when something is; without
// it, 0 when everything stale was removed, 1 when something stale is left (over
// --max-deletions); 2 on errors, including any removal that failed (it is retried on the next
// run).
package gccmd
