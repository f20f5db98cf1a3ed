// Package recipecmd is `swarmrun render` and `swarmrun lint`: what a deploy of a recipe
// would apply, and abra's recipe rules, without a swarm.
//
// Both go through the deploy pipeline (deploy/stack) exactly as a run does: render -f takes
// a TestRun and its Recipe, plans the run (reconcile.PlanRun) and prepares the role's deploy
// (reconcile.DeployRequest, stack.Pipeline.Prepare) without applying it; render and lint of
// a recipe directory prepare its working tree, or a ref of it. The Docker engine is never
// contacted: a render reads files and git only.
//
// recipecmd must not apply, remove or observe anything on a swarm, and writes only into a
// temporary directory it removes.
package recipecmd
