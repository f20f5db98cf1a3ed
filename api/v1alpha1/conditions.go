package v1alpha1

// Condition types of a TestRun.
const (
	ConditionResolved  = "Resolved"
	ConditionBaseReady = "BaseReady"
	ConditionHeadReady = "HeadReady"
	ConditionPruned    = "Pruned"
	ConditionVerified  = "Verified"
	// ConditionSucceeded is terminal: Unknown while running, True or False at the end.
	ConditionSucceeded = "Succeeded"
	// ConditionStalled is True only when no retry can help.
	ConditionStalled = "Stalled"
	// ConditionPreviousStale warns that a base-only repair was skipped.
	ConditionPreviousStale = "PreviousStale"
)

// Condition types of a Recipe.
const (
	ConditionWarmReady = "WarmReady"
)

// Condition types of a Repository.
const (
	// ConditionReady says whether the last exchange with the forge worked: its secrets
	// were readable and the forge answered.
	ConditionReady = "Ready"
)

// Condition reasons (PascalCase).
const (
	ReasonSucceeded          = "Succeeded"
	ReasonProgressing        = "Progressing"
	ReasonImagePullFailed    = "ImagePullFailed"
	ReasonConvergenceTimeout = "ConvergenceTimeout"
	ReasonRolledBack         = "RolledBack"
	ReasonTaskFailed         = "TaskFailed"
	ReasonUnhealthy          = "Unhealthy"
	ReasonCheckFailed        = "CheckFailed"
	ReasonVerifyFailed       = "VerifyFailed"
	ReasonInvalidSpec        = "InvalidSpec"
	ReasonRecipeNotFound     = "RecipeNotFound"
	ReasonSourceFailed       = "SourceFailed"
	ReasonRenderFailed       = "RenderFailed"
	ReasonEngineError        = "EngineError"
	ReasonCancelled          = "Cancelled"
	ReasonTimeout            = "Timeout"
	ReasonPreviousStale      = "PreviousStale"
	ReasonPromoted           = "Promoted"
	ReasonNotPromoted        = "NotPromoted"
	// ReasonSpecChanged ends a run whose TestRun or Recipe spec changed after it resolved:
	// a run tests the specs it started with.
	ReasonSpecChanged = "SpecChanged"
	// ReasonInvalidStatus ends a run whose stored status names what swarmrun would never
	// have written there (a stack that is not the run's own).
	ReasonInvalidStatus = "InvalidStatus"
	// ReasonPolicyDenied ends a run whose rendered stack breaks the deploy policy: nothing
	// of it was applied.
	ReasonPolicyDenied = "PolicyDenied"
)

// Reasons of a Recipe's WarmReady condition and of the events about warm stacks and garbage
// collection.
const (
	// ReasonConverged: the warm stack runs the canonical version (also a run's BaseReady and
	// HeadReady reason).
	ReasonConverged = "Converged"
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
	// ReasonWarmStackRemoved: the warm stack was removed because the recipe is no longer warm.
	ReasonWarmStackRemoved = "WarmStackRemoved"
	// ReasonGarbageCollected: an object of a run or recipe was removed as stale.
	ReasonGarbageCollected = "GarbageCollected"
)

// Reasons of a Repository's Ready condition and of the events about pull requests.
const (
	// ReasonForgeReachable: the forge answered the last requests.
	ReasonForgeReachable = "ForgeReachable"
	// ReasonSecretUnreadable: the token or webhook secret file cannot be read, or may be
	// read by others.
	ReasonSecretUnreadable = "SecretUnreadable"
	// ReasonForgeError: the forge refused a request or did not answer.
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
