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
)
