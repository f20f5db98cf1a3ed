package v1alpha1

// Labels that mark what swarmrun owns in the swarm. Ownership is decided by these labels,
// never by a stack's name alone.
const (
	// LabelManagedBy is set to ManagedByValue on every object swarmrun creates.
	LabelManagedBy = "swarmrun.dev/managed-by"
	// ManagedByValue is the value of LabelManagedBy.
	ManagedByValue = "swarmrun"
	// LabelTestRun names the TestRun that owns a run stack's object.
	LabelTestRun = "swarmrun.dev/testrun"
	// LabelRole says what an object is for: RoleBase, RoleHead, RoleCheck, RoleWarm.
	LabelRole = "swarmrun.dev/role"
	// LabelWarm names the Recipe whose warm stack an object belongs to.
	LabelWarm = "swarmrun.dev/warm"
	// LabelRecipe names the Recipe a stack was deployed from.
	LabelRecipe = "swarmrun.dev/recipe"
)

// Labels of the TestRuns a Repository starts: which Repository, pull request and comment
// asked for the run. The Repository controller reports back only on runs labelled with its
// own name.
const (
	LabelRepository  = "swarmrun.dev/repository"
	LabelPullRequest = "swarmrun.dev/pull-request"
	LabelComment     = "swarmrun.dev/comment"
)

// Values of LabelRole.
const (
	RoleBase  = "base"
	RoleHead  = "head"
	RoleCheck = "check"
	RoleWarm  = "warm"
)

// FinalizerTeardown keeps a TestRun (or a warm Recipe) until its stack has been torn down.
const FinalizerTeardown = "swarmrun.dev/teardown"
