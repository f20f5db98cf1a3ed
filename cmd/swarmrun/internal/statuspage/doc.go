// Package statuspage is serve's read-only status page: server-rendered HTML at / (TestRuns
// with their level, conditions and result files; Recipes with their canonical and warm stack;
// the recent removals of garbage collection), each run's result files at
// /runs/<testrun>/results.json, junit.xml and summary.md, and a shields-style SVG badge per
// recipe at /badge/<recipe>.svg with the level of its last target-branch run (TargetBranchRun).
//
// The page is html/template with no script and a Content-Security-Policy that allows none.
// It never shows env values: not the Recipes', not the TestRuns', and results.json is served
// with every env value replaced by ***. Source URLs are shown without their user info. Text
// from objects (condition messages quote what recipes and pull requests wrote) is shown with
// control characters escaped, as every command prints it.
//
// Result files are served from <data-dir>/runs/<testrun>/ only: three fixed file names, a
// run name that is a valid object name of a TestRun that exists, opened through an os.Root
// on <data-dir>/runs so that no symlink leads out of it.
//
// It reads the store and the data dir and writes neither. Who may read it is serve's
// decision (the API's auth, or public with --public-status): statuspage only provides the
// handlers, as server.Mounts.
package statuspage
