package v1alpha1

// Condition types of a TestRun, in the order a run sets them True.
const (
	ConditionResolved  = "Resolved"
	ConditionBaseReady = "BaseReady"
	ConditionHeadReady = "HeadReady"
	ConditionPruned    = "Pruned"
	ConditionVerified  = "Verified"
	// ConditionSucceeded is terminal: Unknown while running, True or False at the end.
	ConditionSucceeded = "Succeeded"
	// ConditionPreviousStale warns that a base-only repair was skipped.
	ConditionPreviousStale = "PreviousStale"
	// ConditionPromoted is set on a finished run of a warm recipe, with its verdict: True
	// when the run's head became the recipe's canonical, False with the reason it did not.
	ConditionPromoted = "Promoted"
)

// Condition types of a Recipe.
const (
	// ConditionWarmReady says whether the recipe's warm stack runs its canonical version.
	ConditionWarmReady = "WarmReady"
)

// Condition types of a Repository.
const (
	// ConditionReady says whether the last exchange with the forge worked: its secrets
	// were readable and the forge answered.
	ConditionReady = "Ready"
)

// Reasons of a run's step conditions when the step went well.
const (
	ReasonResolved = "Resolved"
	// ReasonConverged: the deploy converged (BaseReady, HeadReady); also a warm stack that
	// runs its canonical version (WarmReady).
	ReasonConverged = "Converged"
	// ReasonNoBase: the run has no upgrade base (BaseReady True, with the plan's reason).
	ReasonNoBase = "NoBase"
	// ReasonWarmCopied: the run's base is a copy of the warm stack's data (BaseReady True).
	ReasonWarmCopied = "WarmCopied"
	ReasonPruned     = "Pruned"
	ReasonVerified   = "Verified"
)

// Reasons of a run's Succeeded condition (and of the step that failed), PascalCase. Each
// failure is final: the run ends red with it (see reconcile's reasonFor, the one mapping
// from errors to these).
const (
	ReasonSucceeded   = "Succeeded"
	ReasonProgressing = "Progressing"
	// ReasonQueued: the run waits for a place among the runs in flight (Succeeded Unknown).
	ReasonQueued = "Queued"
	// ReasonImagePullFailed: an image is neither present nor pullable.
	ReasonImagePullFailed = "ImagePullFailed"
	// ReasonConvergenceTimeout: a deploy had not converged when its bound passed.
	ReasonConvergenceTimeout = "ConvergenceTimeout"
	// ReasonRolledBack: the engine rolled an update back, or paused it.
	ReasonRolledBack = "RolledBack"
	// ReasonTaskFailed: tasks of the new spec keep failing.
	ReasonTaskFailed = "TaskFailed"
	// ReasonUnhealthy: tasks of the new spec keep failing their healthcheck.
	ReasonUnhealthy   = "Unhealthy"
	ReasonCheckFailed = "CheckFailed"
	// ReasonVerifyFailed: a built-in verification of the head did not hold.
	ReasonVerifyFailed   = "VerifyFailed"
	ReasonRecipeNotFound = "RecipeNotFound"
	// ReasonSourceFailed: the recipe's source does not exist, refuses us, or has no such ref.
	ReasonSourceFailed = "SourceFailed"
	// ReasonRenderFailed: the recipe's compose, env, overlays or files cannot make a stack,
	// or a file it names lies outside its checkout.
	ReasonRenderFailed = "RenderFailed"
	// ReasonPolicyDenied: the rendered stack breaks the deploy policy; nothing of it was
	// applied.
	ReasonPolicyDenied = "PolicyDenied"
	// ReasonEngineError is the Warning event of a step that failed for now (the engine, a git
	// remote or the store refused): it never ends a run, the controller retries the step.
	ReasonEngineError = "EngineError"
	// ReasonTimeout: the run exceeded spec.timeout.
	ReasonTimeout = "Timeout"
	// ReasonSpecChanged: the TestRun's or its Recipe's spec changed after the run resolved; a
	// run tests the specs it started with.
	ReasonSpecChanged = "SpecChanged"
	// ReasonInvalidStatus: the stored status names what swarmrun would never have written
	// there (a stack that is not the run's own).
	ReasonInvalidStatus = "InvalidStatus"
	// ReasonPreviousStale: a base-only repair was skipped (PreviousStale).
	ReasonPreviousStale = "PreviousStale"
	// ReasonWarmUnavailable: the run asked to start from the warm stack (spec.base.from:
	// warm), and the recipe has none at the version the run resolved.
	ReasonWarmUnavailable = "WarmUnavailable"
	// ReasonPromoted and ReasonNotPromoted: the Promoted condition, and its events.
	ReasonPromoted    = "Promoted"
	ReasonNotPromoted = "NotPromoted"
)

// Reasons of a Recipe's WarmReady condition besides Converged.
const (
	// ReasonNotEnrolled: the recipe is not warm, so it has no warm stack.
	ReasonNotEnrolled = "NotEnrolled"
	// ReasonNoCanonical: the recipe is warm but no run has promoted a version yet.
	ReasonNoCanonical = "NoCanonical"
	// ReasonInvalidCanonical: the canonical record names no release tag of the recipe at its
	// commit; nothing is deployed until it changes.
	ReasonInvalidCanonical = "InvalidCanonical"
	// ReasonDeployFailed: converging the warm stack failed; it is retried.
	ReasonDeployFailed = "DeployFailed"
	// ReasonStackNotOwned: a stack of the warm stack's name exists without swarmrun's labels.
	ReasonStackNotOwned = "StackNotOwned"
)

// Reasons of events only.
const (
	// ReasonApplied: a deploy of a run was applied (how many services it created, updated,
	// left unchanged).
	ReasonApplied = "Applied"
	// ReasonCheck: a check ran (its result in the message).
	ReasonCheck = "Check"
	// ReasonTornDown: a run's stack was removed.
	ReasonTornDown = "TornDown"
	// ReasonNotOwned: a stack of the run's name is not the run's, and was left alone.
	ReasonNotOwned = "NotOwned"
	// ReasonWarmStackRemoved: the warm stack was removed because the recipe is no longer warm.
	ReasonWarmStackRemoved = "WarmStackRemoved"
	// ReasonGarbageCollected: an object of a run or recipe was removed as stale.
	ReasonGarbageCollected = "GarbageCollected"
)

// Reasons of a Repository's Ready condition and of the events about pull requests.
const (
	// ReasonForgeReachable: the forge answered the last requests.
	ReasonForgeReachable = "ForgeReachable"
	// ReasonSecretUnreadable: the token file cannot be read, or may be read by others. (A
	// webhook secret that cannot be read makes the webhook endpoint answer 500, with the
	// reason in serve's log.)
	ReasonSecretUnreadable = "SecretUnreadable"
	// ReasonForgeError: a step of the Repository controller failed: the forge refused a
	// request or did not answer, or the store refused a write; it is retried.
	ReasonForgeError = "ForgeError"
	// ReasonRunStarted: an authorised comment started a TestRun.
	ReasonRunStarted = "RunStarted"
	// ReasonRunReplaced: a new comment replaced a pull request's finished TestRun.
	ReasonRunReplaced = "RunReplaced"
	// ReasonRunReported: a run's verdict was posted to its pull request.
	ReasonRunReported = "RunReported"
	// ReasonTriggerRefused: a comment asked for a run but its author may not.
	ReasonTriggerRefused = "TriggerRefused"
	// ReasonTriggerIgnored: a comment could not start a run (the pull request is closed,
	// or a TestRun of the run's name belongs to someone else).
	ReasonTriggerIgnored = "TriggerIgnored"
)
