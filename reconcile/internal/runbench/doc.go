// Command runbench is the warm-run half of `make bench`: one cold TestRun and one warm TestRun
// (spec.base.from: warm) of the same head of the same recipe, from the same base version,
// through a real `swarmrun serve` on the local swarm, timed side by side.
//
// It builds the test recipe (the probe images, a volume, a generated secret) with release
// 0.1.0+1 on main and an unreleased head 0.2.0+2 on branch pr, applies it as a warm Recipe,
// lets a cold run of 0.1.0+1 promote it so that the Recipe controller brings warm-<recipe>
// to 0.1.0+1, and then times a cold run of pr (its base: the canonical 0.1.0+1, deployed) and
// a warm run of pr (its base: a copy of warm-<recipe>'s volumes), each from its apply to its
// verdict, as `swarmrun wait` sees it. Both runs have the same stages and checks; the warm
// run skips what a warm base skips (the base deploy, its install checks, the upgrade.before
// checks), which is the point.
//
// Everything it creates is under a temporary data dir and in stacks named after a random
// recipe; it removes them at the end.
package main
