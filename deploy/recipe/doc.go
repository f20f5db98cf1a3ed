// Package recipe is the recipe side of a deploy: it opens a recipe's git repository (a
// local path in place, or a remote URL through a bare mirror cached per URL), resolves refs
// to commits, lists and orders release tags, finds the target branch tip, and materialises
// one commit (or a local working tree) into a fresh directory for one deploy of one run.
// It also reads a recipe's env (.env.sample, abra.sh: definitions with their file, line and
// "# key=value" hints, expanded in order so that COMPOSE_FILE can be built line by line),
// picks the compose files, generates the values of the external secrets a deploy needs
// (under the hints of the variable the secret's written name reads), lists tags (release
// tags are X.Y.Z+upstream or plain semver, "v" or not, lightweight or annotated) and
// computes the coop-cloud labels of the app service.
//
// A run uses it in this order: Cache.Open, then Source.Fetch once (the mirror is fetched
// at most once per call, never behind the caller's back), Resolve / Versions /
// TargetBranch to plan, and Materialise into a directory of the run's own per deploy.
// Later phases of the same run Open again and Materialise the commits they recorded, with
// no fetch: the commits are already in the mirror.
//
// A recipe head is untrusted: anyone may open a pull request. recipe confines everything it
// reads from or writes for a checkout:
//
//   - Materialise checks the whole tree from its metadata before writing anything, and
//     refuses a tree with an invalid name (".", "..", ".git", a "/"), a name listed twice (a
//     file under a name that is also a symlink would be written through it), a symlink that
//     resolves outside the checkout after following the tree's own symlinks, or more than
//     Options.MaxFiles entries or Options.MaxBytes of files (defaults 20,000 and 256 MiB).
//     It writes through an os.Root of the target directory, creating each file anew, blobs
//     streamed from the store, never held whole in memory, and symlinks last.
//   - LoadEnv and ComposeFiles open .env.sample, abra.sh and the compose files through an
//     os.Root of the checkout: an absolute or ".." path, or a symlink (or chain) leading out,
//     is refused.
//
// Every refusal matches ErrUnsafe (ErrTooLarge for the limits, which matches ErrUnsafe too),
// names the file or entry, and is final: the same commit is refused again. ErrUnsafe is
// confine.ErrUnsafe, which deploy/render's refusals match as well.
//
// recipe never talks to Docker, never executes anything from a recipe (abra.sh is read,
// not run), never writes into a local source or outside a materialised directory, never
// reads outside a checkout, and never shares a materialised directory between deploys.
// Secret values are wrapped in Secret so that they cannot reach a log, an error or a status
// by accident, and URLs are named without their credentials.
package recipe
