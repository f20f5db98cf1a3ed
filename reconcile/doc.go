// Package reconcile holds swarmrun's TestRun reconciler and the pure planning it builds on.
//
// The planners (upgrade base resolution in base.go, the level ladder in level.go, the
// verification of the head in verify.go) are pure functions of their inputs: they read no
// clock, no swarm and no git repository, so that every rule is table-tested and guarded by
// property tests. The reconciler observes and acts through the deploy pipeline (deploy/stack,
// the only package of the deploy tree it imports) and writes status.
//
// # One step per call
//
// TestRunReconciler.Reconcile is level-based and takes one step of a run per call: it reads
// the TestRun, its Recipe and the swarm afresh, finds the first step the stored status says
// is not done, does it, stores status, and returns what the driver should do next: Requeue
// when the next step can go at once (behind the other objects waiting), RequeueAfter when it
// waits for the swarm or for checks. Events of the run's stack (and the end of its checks)
// wake it earlier. No call waits for a deploy to converge, so a handful of workers serve any
// number of runs, and a deletion is just the next step.
//
//	Resolved   fetch the source, resolve the head, the target branch (main, then master)
//	           and the base plan (PlanRun, ResolveBase); store the stack name, the head
//	           {ref, commit, version, chaosVersion}, the plan and the Recipe's generation;
//	           PreviousStale when the recipe's base-only repair is skipped
//	BaseReady  apply the base (role=base) and record it; look at it until it converged;
//	           run the install and upgrade.before checks; a run without a base records why;
//	           a warm base (spec.base.from: warm) waits for the warm stack at the
//	           canonical and copies its volumes into the run's stack instead (warmbase.go)
//	HeadReady  apply the head over the base (or install it) and record it; look until it
//	           converged; without a base the install checks run here
//	Pruned     remove the services the head does not declare
//	Verified   upgrade.after checks, then the built-in checks (images by label, spec and
//	           task; service set; version and chaos-version labels; one deploy per phase)
//	tiers      backup, restore, custom (each passed, failed, notApplicable or skipped);
//	           backup and restore follow the head's backupbot labels (backup.go)
//	Succeeded  lint, level, promotion (see below), results under
//	           <data-dir>/runs/<testrun>/, verdict; then teardown, step by step
//
// Each deploy is DeployRequest's for its role: the recipe's env, the repair's on a base it
// applies to, the run's; the Recipe's image overrides, then the run's. PlanRun and
// DeployRequest are exported for `swarmrun render`, which renders what a run would deploy
// through the same pipeline without applying it.
//
// A look judges every service of the deploy in one observation (converge.Judge through
// stack.Pipeline.LookAt) and stores what the judge needs across calls in the deploy record:
// when each task was first seen running, the health statuses seen, each service's phase. A
// deploy that has not converged when the recipe's deploy timeout, counted from the recorded
// apply, has passed ends with ConvergenceTimeout; a restart gets what is left of the bound.
//
// Checks. Each tier runs the Recipe's checks, then those the recipe repository ships in
// tests/swarmrun.yaml at the commit concerned (shipped.go): the base's install checks on the
// base, the head's for everything else, upgrade.before included (read from a checkout of the
// head of its own, before the head deploys). A deploy's file is read with its render: a bad
// file fails that deploy with RenderFailed. Every result names its source.
//
// Backup and restore. The head's render says whether they apply: backupbot labels make the
// backup tier back the live stack up as backupbot would (stack.Pipeline.Backup, markers in
// each backed-up directory) into <data-dir>/runs/<testrun>/backup/, recorded with its digest,
// and the restore tier put it back (stack.Pipeline.Restore) and prove it by the markers and a
// stack that converges again; without labels or checks both are notApplicable ("no
// backupbot labels in the head"), whatever the Recipe declares.
//
// Checks take minutes, and run in the background (checkBatches), and so do a backup, a
// restore and a warm base's copy: a step starts a batch and returns, a later step collects
// its results. Results live in memory until collected; a restarted process runs an
// unfinished batch again (a backup writes its markers and archive afresh, a restore puts the
// same archive back, a copy overwrites what an earlier attempt copied). What the process remembers of a run
// (its source, its renders, the masker that learnt its secrets) spares later steps work and
// is never needed for correctness.
//
// Crash safety. A deploy's record is stored right after its apply, and no phase with a
// record is applied again: later steps only look at it. When the crash came between an apply
// and the storing of its record, the repeated apply finds every service unchanged (deploy's
// spec-digest label) and the services that carry this run's and this role's labels tell what
// the first apply created or updated. A phase is marked done only after its checks ran and
// their results were stored. Generated secrets are derived, not stored, so the render after
// a restart is byte for byte the one before it.
//
// A run deploys the specs it resolved. The TestRun's generation (status.observedGeneration)
// and its Recipe's (status.recipeGeneration) are stored at resolve; a later change of
// either ends the run with SpecChanged rather than reaching the head's deploy. To test the
// new spec, delete the run and create it anew (swarmrun run does this for a finished run).
// The run's stack is the one its name and UID derive (StackName): a status that names
// another ends the run with InvalidStatus, and teardown never reads the name from status.
//
// Isolation of deploys. Every deploy renders from its own freshly materialised directory
// with exactly the layers meant for it: env = the recipe's .env.sample and abra.sh, then the
// Recipe's env, then previous.env (base only, and only when PreviousFor says it applies),
// then the TestRun's env, then STACK_NAME and DOMAIN; overlays = the Recipe's overlays on
// every deploy, previous.overlays on the base only when they apply, and last the app
// service's coop-cloud labels (a version deploy for a version base, a chaos deploy for a
// branch-tip base and for every head). Nothing of the base deploy can reach the head
// deploy: they share no directory, no env map and no render.
//
// Promotion. Only cold runs promote: a warm base (BaseWarm) tells warm.Decide the run was
// not cold. It lives at the end of the run, not in the Recipe controller: when the verdict
// is set (green or red) and the run's Recipe is warm, the Promoter (warm.Promoter) decides
// with the recipe's published versions as of the run's resolve, writes
// Recipe.status.canonical on a promotion, and records the decision as events on the TestRun
// and the Recipe; the run's Promoted condition is stored in the same status write as the
// verdict. So a run whose verdict is stored is never asked again. A restart between the
// promoter's write and the verdict's finds the canonical naming this run at this commit and
// takes it as its own promotion.
//
// Check services carry the run's ownership labels (managed-by, testrun, recipe, role=check).
// Generated secrets and the operator's secret-shaped env values live in the run's masker,
// which every message, check output, event and result passes through; they never reach
// status, events, logs or results.
//
// Errors. reasonFor is the one mapping from an error to a condition reason: the run's own
// failures (checks, verification) here, the deploy tree's in stack.Reason. Image errors are
// ImagePullFailed, a deploy past its bound ConvergenceTimeout, a rollback RolledBack, failed
// checks CheckFailed, a failed built-in verification VerifyFailed, render, compose-file and
// immutable-object errors RenderFailed, unknown refs and missing sources SourceFailed, a
// missing Recipe RecipeNotFound; all of these end the run red. Anything else (the engine or
// a git remote refusing for now, a conflict on status) is returned to the driver, which
// retries it with backoff: the reconciler never sleeps, loops or retries by itself. A
// failure fails the tier it belongs to, skips the tiers after it, stores the level and the
// results, and tears down per policy. A broken head therefore leaves install passed at the
// base and upgrade failed: level 1.
//
// Time. spec.timeout counts from status.startedAt on the injected clock; a run past it ends
// with reason Timeout at its next step.
//
// Finalizer and teardown. The swarmrun.dev/teardown finalizer is added before anything is
// created. A finished run only tears down, per policy (Always, OnSuccess, Never), a step at
// a time, judged against the swarm (a stack already gone costs one listing), with volumes,
// and only when the stack's labels say it is this run's: a stack of that name that is
// someone else's is left alone with a Warning event (NotOwned), and the teardown counts as
// done. Deleting a TestRun runs its finalizer at the next step: the stack goes, whatever
// the policy, before the object does.
//
// Metrics. The reconciler tells an Observer (which it defines; the wiring passes swarmrun's
// metrics) each fact once, when it happened or once it is stored: a verdict with its reason and
// level, a deploy's convergence time by role, the services a prune removed, a promotion
// decision. reconcile itself does not import Prometheus.
//
// reconcile provides the reconciler and nothing else: the controller that drives it, its
// sources and the wiring live in cmd (package app). It must not sleep, retry or loop on
// backoff (the controller does that), and must not import the Docker SDK.
package reconcile
