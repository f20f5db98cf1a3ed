// Package stack is swarmrun's one deploy pipeline: a recipe commit in, a stack converging on
// the swarm out. Runs (package reconcile) and warm stacks (package warm) both deploy through
// it, so a warm stack runs a version exactly as a run's version base would.
//
// A deploy goes in steps that each return at once, so that a reconciler takes one per call
// and no worker waits on the engine:
//
//	Prepare  materialise the commit into the deploy's own directory, read the recipe's env
//	         (.env.sample, abra.sh) under the caller's layers, pick the compose files
//	         (COMPOSE_FILE), render them with the overlays and the app service's coop-cloud
//	         labels, apply abra's deploy-time conventions and the image overrides to the
//	         merged configuration (conventions.go: the app env exposed to the app service,
//	         an external proxy network made the stack's own), and turn the external secrets
//	         into secrets of the stack, generated per deploy (HMAC of the data dir's key over
//	         a seed and the secret's interpolated name, with the hints of the variable its
//	         written name reads); the result must pass the deploy policy
//	Apply    apply the render with the caller's ownership labels (deploy.Deployer.Apply)
//	         and say what it did; Record makes the deploy record a caller stores
//	LookAt   one look at the recorded deploy, judged (converge.Look), with what earlier
//	         looks saw kept in the record (its Convergence) and the deploy's bound counted
//	         from the recorded apply; NextLook says when to look again
//	Prune    remove the services a render no longer declares
//	RemoveStep  one step of removing a stack
//
// The pipeline also opens recipe sources (Open) and reads a stack's owner from its labels
// (Owner). For the later tiers it reads a render's backupbot labels (Prepared.BackupPlan),
// backs a live stack up and restores it (Backup, Restore), copies a warm stack's volumes into
// a run's stack before anything of it is applied (CopyVolumes), all through package backup,
// and reads the checks a recipe ships inside its checkout (RecipeTests, RecipeTestsAt). It re-exports the few names of the deploy tree its callers need (Source, Version,
// Target, Memo, State, ...), and Reason maps the deploy tree's errors to condition reasons,
// so that reconcile imports this package alone from the deploy tree and no Docker SDK type
// reaches it: renders are seen through swarmrun's own view (Prepared.Services).
//
// Container health statuses reach the looks through RecordHealth, which the wiring feeds
// from the engine's events: the engine records a task killed for being unhealthy like any
// exit, so only these events tell a health loop from a crash loop.
//
// stack decides no policy of a run: which commit to deploy with which layers, when to prune
// or tear down, and what a failure means belong to the reconcilers. It keeps no state
// between calls but the health log and the secret key: each call re-reads the swarm.
package stack
