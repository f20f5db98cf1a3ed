// Package recipe is the recipe side of a deploy: it opens a recipe's git repository (a
// local path in place, or a remote URL through a bare mirror cached per URL), resolves refs
// to commits, lists and orders release tags, finds the target branch tip, and materialises
// one commit (or a local working tree) into a fresh directory for one deploy of one run.
// It also reads a recipe's env (.env.sample, abra.sh), picks the compose files, generates
// the external secrets a deploy needs and computes the coop-cloud labels of the app service.
//
// A run uses it in this order: Cache.Open, then Source.Fetch once (the mirror is fetched
// at most once per call, never behind the caller's back), Resolve / Versions /
// TargetBranch to plan, and Materialise into a directory of the run's own per deploy.
// Later phases of the same run Open again and Materialise the commits they recorded, with
// no fetch: the commits are already in the mirror.
//
// recipe never talks to Docker, never executes anything from a recipe (abra.sh is read,
// not run), never writes into a local source, and never shares a materialised directory
// between deploys. Secret values are wrapped in Secret so that they cannot reach a log,
// an error or a status by accident, and URLs are named without their credentials.
package recipe
