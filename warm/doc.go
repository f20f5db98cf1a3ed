// Package warm holds swarmrun's warm-canonical policy and its garbage collector.
//
// Promotion: Decide is a pure function of a finished TestRun, its Recipe, the recipe's
// published versions and Now; it promotes only a Succeeded, cold run (not a warm one, whose
// base is a copy of the warm stack's data) of a recipe enrolled as warm whose head is a release tag that is the newest published version, and gives every
// refusal a reason. A Promoter records the decision as events on the TestRun and the Recipe
// and writes Recipe.status.canonical with the store's optimistic concurrency, so two runs
// promoting at once cannot both win with stale data. The TestRun reconciler calls it once per
// run, with the verdict (see package reconcile).
//
// Warm stacks: the RecipeReconciler, which swarmrun serve runs beside the TestRun
// controller, converges the stack warm-<recipe> to the canonical version through the runs'
// own deploy pipeline (deploy/stack), one step per call as a run does: apply and record the
// deploy in status.warmStack, look at it until it converged, prune what the version dropped,
// report WarmReady. A canonical that names no release tag of the recipe at its commit is
// refused (InvalidCanonical) before anything is deployed or written. It removes the warm
// stack, step by step, when the recipe stops being warm or is deleted (volumes kept unless
// asked), and only when the stack's labels say it is the recipe's.
//
// Garbage collection: Classify is a pure function of an inventory of the swarm
// (deploy/inventory), the Recipes and TestRuns, a Policy and Now, returning typed lists of
// what is stale, what is swarmrun's and kept, and what looks like swarmrun's but is not
// labelled. Ownership is decided by labels only (swarmrun.dev/managed-by, swarmrun.dev/testrun,
// swarmrun.dev/warm), never by a name, with one opt-in exception: an unlabelled stack named
// warm-<recipe> (or warm-<recipe>_<domain>, as abra names an app's stack) of a Recipe that
// exists and has no canonical record may be adopted and removed. A Collector
// runs passes: list the swarm (one listing per object type), then the objects, classify,
// and remove at most a capped number of items in deploy's removal order, re-reading each
// stack's labels right before removing it; every removal is an event on its owner and a log
// line, every failure is reported and retried on the next pass.
//
// The RecipeReconciler tells an Observer (defined here; the wiring passes swarmrun's metrics)
// how long each warm deploy took to converge and how many services it pruned; garbage
// collection's removals are in the Report each pass returns.
//
// warm provides reconcilers, policy and the collector; the controller that drives the
// RecipeReconciler is wired in cmd (package app). warm must not import the Docker SDK, must
// not import reconcile, and must not deploy by hand: stacks are deployed and removed through
// the pipeline (the collector removes through deploy). Its planners read no clock.
package warm
