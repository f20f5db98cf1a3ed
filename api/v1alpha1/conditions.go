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
