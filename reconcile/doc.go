// Package reconcile holds swarmrun's reconcilers and the pure planning they build on.
//
// The planners (upgrade base resolution in base.go, the level ladder in level.go, the
// verification of the head in verify.go) are pure functions of their inputs: they read no
// clock, no swarm and no git repository, so that every rule is table-tested and guarded by
// property tests. The reconcilers observe through deploy, plan with these functions, apply
// through deploy and write status.
//
// # The TestRun reconciler
//
// TestRunReconciler.Reconcile is level-based: it reads the TestRun (gone: nothing to do), its
// Recipe and the swarm afresh on every call and runs the lifecycle from where the stored
// conditions say the run is, storing status after each step:
//
//	Resolved   fetch the source once, resolve the head, the target branch (main, then
//	           master) and the base plan (ResolveBase); store the stack name, the head
//	           {ref, commit, version, chaosVersion} and the plan; PreviousStale when the
//	           recipe's base-only repair is skipped
//	BaseReady  materialise the base into <data-dir>/runs/<testrun>/base, render, apply
//	           (role=base), wait, run the install and upgrade.before checks; a run without
//	           a base records why and goes on
//	HeadReady  materialise the head into .../head, apply (role=head), wait; without a base
//	           the install checks run here
//	Pruned     remove the services the head does not declare
//	Verified   built-in checks (images by label, spec and task; service set; version and
//	           chaos-version labels; one deploy per phase), then upgrade.after
//	tiers      backup, restore, custom (each passed, failed, notApplicable or skipped), lint
//	Succeeded  level, promotion (see below), results under <data-dir>/runs/<testrun>/,
//	           verdict; then teardown
//
// The steps run one after another in one call when nothing fails, so a healthy run needs one
// reconcile; a call that is cut short (crash, kill, shutdown, the driver's reconcile
// timeout) leaves the status of the last finished step, and the next call goes on from
// there. Nothing is remembered between calls but the stored status and the swarm.
//
// Crash safety. Each deploy's DeployRecord is stored right after its apply, before the wait;
// a resumed phase re-renders the same commit with the same inputs and applies again, which
// deploy answers with "unchanged" for every service (its spec-digest label), so no phase
// rolls out twice; the record keeps what the first apply did and gains its convergence
// time. When the crash came between an apply and the storing of its record, the services
// that carry this run's role label tell what that apply created or updated. A resumed apply
// that still creates or updates a service (the swarm changed between the crash and the
// restart) is a second rollout: the record counts it (Rollouts) and the verification fails
// the run. A phase is marked done only after its checks ran and their results were stored.
// Generated secrets are derived, not stored (see below), so the render after a restart is
// byte for byte the one before it.
//
// A TestRun runs once, with the spec it had when it was resolved (status.observedGeneration);
// a later change of its spec, or of its Recipe, is not applied to the run in flight. To run
// again, delete it and create it anew (swarmrun run does this for a finished run).
//
// Isolation of deploys. Every deploy renders from its own freshly materialised directory
// with exactly the layers meant for it: env = the recipe's .env.sample and abra.sh, then the
// Recipe's env, then previous.env (base only, and only when PreviousFor says it applies),
// then the TestRun's env, then STACK_NAME and DOMAIN (<stack>.<DomainSuffix>); overlays =
// the Recipe's overlays on every deploy, previous.overlays on the base only when they apply,
// and last the app service's coop-cloud labels (recipe.AppLabels: a version deploy for a
// version base, a chaos deploy for a branch-tip base and for every head). Nothing of the
// base deploy can reach the head deploy: they share no directory, no env map and no render.
//
// One deploy path. Runs and warm stacks deploy through the same code (stacks.go): materialise
// the commit into a directory of its own, env layers, render with the overlays and the app
// labels, generated secrets, apply with ownership labels, wait. A run's prepare and deploy
// add only what is a run's (its layers and roles, its deploy records).
//
// Warm stacks. WarmStacks is the warm.StackDeployer of the Recipe controller (package warm):
// DeployVersion converges warm-<recipe> to a release tag from <data-dir>/warm/<recipe>/<version>
// with the recipe's files and env, the Recipe's env and overlays, STACK_NAME and DOMAIN of the
// stack and the app labels of a version deploy (never previous, never a run's env); every
// object carries managed-by, warm=<recipe> and role=warm; generated secrets derive from the
// stack's name, so that every version of one warm stack gets the same values; after the wait
// the services the version dropped are pruned, volumes are kept.
//
// Promotion. It lives at the end of the TestRun reconcile, not in the Recipe controller:
// when the verdict is set (green or red) and the run's Recipe is warm, the Promoter
// (warm.Promoter) decides with the recipe's published versions as of the run's resolve, writes
// Recipe.status.canonical on a promotion, and records the decision as events on the TestRun and
// the Recipe; the run's Promoted condition (True Promoted, False NotPromoted with the reason)
// is stored in the same status write as the verdict. So a run whose verdict is stored is never
// asked again: a restart after the verdict only tears down, and cannot promote twice or flip a
// newer canonical back. A restart between the promoter's write and the verdict's finds the
// canonical naming this run at this commit and takes it as its own promotion. Runs of a
// recipe that is not warm are not asked about (no condition, no events). The Recipe
// controller, woken by the canonical's write, converges the warm stack; swarmrun run promotes
// the same way but leaves the warm stack to serve.
//
// Check services. The one-shot services of a run's checks carry the run's ownership labels
// (managed-by, testrun, recipe, role=check) through checks.Runner.WithLabels.
//
// Generated secrets. Secrets the compose declares external get a value per run:
// HMAC-SHA256, keyed by <data-dir>/secret.key (32 random bytes, 0600, created once), over the
// TestRun's UID and the secret's full name, in the recipe's alphabet and at the length its
// version variable's "# length=N" hint asks for. render.Stack.ProvideSecrets turns them into
// secrets of the stack (namespace and ownership labels), so deploy creates them with the
// stack and Remove removes them with it. The values live in the call's mask.Masker, which
// every message, check output, event and result passes through; they never reach status,
// events, logs or results.
//
// Errors. reasonFor is the one mapping from an error to a condition reason: image errors
// (before the apply or as a converge ImageNotFound) are ImagePullFailed, a converge timeout
// ConvergenceTimeout, a rollback RolledBack, failed checks CheckFailed, a failed built-in
// verification VerifyFailed, render, compose-file and immutable-object errors RenderFailed,
// unknown refs SourceFailed, a missing Recipe RecipeNotFound; all of these end the run red.
// Anything else (the engine or the store refusing for now, a conflict on status) is
// returned to the driver, which retries with backoff: the reconciler never sleeps, loops or
// retries by itself. A failure fails the tier it belongs to (the base deploy and install
// checks: install; the head over a base, the prune and the verification: upgrade; without a
// base: install), skips the tiers after it, stores the level and the results, and tears down
// per policy. A broken head therefore leaves install passed at the base and upgrade failed:
// level 1.
//
// Time. spec.timeout counts from status.startedAt on the injected clock; the remaining time
// bounds every wait of the call, and a run past it ends with reason Timeout. Recipe deploy
// timeouts bound each convergence wait, counted from the phase's recorded apply, so a wait
// resumed after a restart gets what is left rather than a fresh bound; keep the driver's reconcile timeout above them (the
// default, 30m, is above the default deploy timeout, 20m).
//
// Finalizer and teardown. The swarmrun.dev/teardown finalizer is added before anything is
// created. A finished run (Succeeded True or False) only tears down: per policy (Always,
// OnSuccess, Never), judged against the swarm (a stack already gone costs one listing), with
// volumes, and only when the stack's labels say it is this run's (warm.StackOwner): a stack
// of that name that is someone else's is left alone with a Warning event (NotOwned), and the
// teardown counts as done. Deleting a TestRun interrupts the reconcile in flight (Interrupt, called by the
// store source) and its finalizer removes the stack, whatever the policy, before the object
// goes.
//
// Wiring. RunController runs the reconciler in a controller.Controller (de-duplicating
// rate-limited queue, Workers concurrent runs, per-key exponential backoff, panic recovery,
// per-reconcile timeout) fed by the store (a TestRun change wakes it, a Recipe change wakes
// every TestRun of the recipe), by the engine's service and container events mapped through
// the swarmrun.dev/testrun label (deploy/events), and by a periodic listing of every
// TestRun. `swarmrun serve` and `swarmrun run` both use it.
//
// reconcile must not sleep, retry or loop on backoff (the controller does that), and must
// not import the Docker SDK: swarm access goes through the deploy package.
package reconcile
