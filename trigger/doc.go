// Package trigger turns comments on a forge's pull requests into TestRuns and their verdicts
// back into commit statuses and comments: the Repository reconciler and the webhook endpoint
// that feeds it.
//
// Comments reach a Repository two ways, both recorded in its status as pending: a webhook
// delivery (Webhook: authenticated by the HMAC of its body under the Repository's secret,
// replays refused by delivery ID) and the poller, a step of the reconciler that lists the
// comments updated since its cursor. The reconciler then handles each pending comment once:
// it reads the comment back from the forge, checks the trigger phrase and that its author is
// a named user or a member of a named team, and starts one TestRun of the pull request's head
// (named <recipe>-pr<N>, labelled with the Repository, pull request and comment). A comment at
// or before the newest one handled for its pull request is never handled again, however it
// is announced. An unauthorised author gets nothing started and, once per pull request, one
// polite comment. A new comment on a pull request whose run is still going waits for it to
// finish and be reported, then replaces it (delete and recreate).
//
// For each run it started, the reconciler posts a pending commit status, then the verdict
// (success or failure, with the level) and exactly one summary comment, edited rather than
// posted again on a retry; what was posted is recorded in the Repository's status, which this
// controller writes (and the webhook endpoint, for the deliveries it verified: their IDs and
// the comments pending); the TestRun's status belongs to the TestRun controller.
//
// Tokens and secrets are read from files under serve's forge secrets directory, in a
// directory named after the forge's host, so that a token kept for one forge is never sent to
// another whoever writes the Repository; they are never logged, recorded or shown.
//
// trigger must not import Docker or deploy anything itself: a run is a TestRun, which the
// TestRun controller runs. It never builds a controller (cmd wires it) and never sleeps.
package trigger
