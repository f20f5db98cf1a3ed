package v1alpha1

import "time"

// Stage is a test tier an operator can ask for.
type Stage string

// Stages, in the order a run climbs them.
const (
	StageInstall Stage = "install"
	StageUpgrade Stage = "upgrade"
	StageBackup  Stage = "backup"
	StageRestore Stage = "restore"
	StageCustom  Stage = "custom"
)

// Stages returns the known stages in the order a run climbs them (the default of a TestRun),
// as a new slice that is safe to change.
func Stages() []Stage {
	return []Stage{StageInstall, StageUpgrade, StageBackup, StageRestore, StageCustom}
}

// Known reports whether s is one of the stages swarmrun can run.
func (s Stage) Known() bool {
	switch s {
	case StageInstall, StageUpgrade, StageBackup, StageRestore, StageCustom:
		return true
	}
	return false
}

// TierLint is the lint rung: it never blocks a run but caps its level.
const TierLint = "lint"

// MaxLevel is the top of a run's level ladder, one rung each: install, upgrade,
// backup + restore, custom, lint.
const MaxLevel = 5

// TeardownPolicy says when a run's stack is removed.
type TeardownPolicy string

// Teardown policies.
const (
	TeardownAlways    TeardownPolicy = "Always"
	TeardownOnSuccess TeardownPolicy = "OnSuccess"
	TeardownNever     TeardownPolicy = "Never"
)

// TeardownPolicies returns the known teardown policies, as a new slice.
func TeardownPolicies() []TeardownPolicy {
	return []TeardownPolicy{TeardownAlways, TeardownOnSuccess, TeardownNever}
}

// Known reports whether p is one of the teardown policies.
func (p TeardownPolicy) Known() bool {
	switch p {
	case TeardownAlways, TeardownOnSuccess, TeardownNever:
		return true
	}
	return false
}

// DefaultRunTimeout bounds a whole TestRun when its spec does not say.
const DefaultRunTimeout = 45 * time.Minute

// TestRun asks for one test of a recipe at a head: deploy the upgrade base, upgrade to the head,
// prune, verify, run the tiers, record a level.
type TestRun struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       TestRunSpec   `json:"spec"`
	Status     TestRunStatus `json:"status,omitzero"`
}

// TestRunSpec is the desired state of a TestRun.
type TestRunSpec struct {
	// Recipe is the name of a Recipe.
	Recipe string `json:"recipe"`
	// Head is the commit, tag or branch under test; empty means the target branch tip.
	Head string `json:"head,omitempty"`
	// Stages are the tiers to run; empty means all five.
	Stages []Stage `json:"stages,omitempty"`
	// UpgradeBase is an explicit base (version tag or commit) that wins over resolution.
	UpgradeBase string `json:"upgradeBase,omitempty"`
	// Base says where the upgrade base comes from: a deploy of the resolved base version
	// (cold, the default) or a copy of the warm stack's data at the recipe's canonical
	// version (warm).
	Base *BaseSource `json:"base,omitempty"`
	// Env is per-run env over the recipe's.
	Env      map[string]string `json:"env,omitempty"`
	Teardown TeardownPolicy    `json:"teardown,omitempty"`
	Timeout  *Duration         `json:"timeout,omitempty"`

	// Images override images after the Recipe's overrides, in both of the run's deploys.
	Images []ImageOverride `json:"images,omitempty"`
}

// Default fills the defaults of a TestRun's spec.
func (r *TestRun) Default() {
	r.APIVersion, r.Kind = APIVersion, KindTestRun
	if len(r.Spec.Stages) == 0 {
		r.Spec.Stages = Stages()
	}
	if r.Spec.Teardown == "" {
		r.Spec.Teardown = TeardownAlways
	}
	if r.Spec.Timeout == nil {
		r.Spec.Timeout = &Duration{Duration: DefaultRunTimeout}
	}
}

// BaseFrom says where a run's upgrade base comes from.
type BaseFrom string

// Where a base comes from.
const (
	// BaseFromCold deploys the base version into the run's stack, onto empty volumes.
	BaseFromCold BaseFrom = "cold"
	// BaseFromWarm skips the base deploy: the run's stack starts with a copy of the volumes
	// of the recipe's warm stack (warm-<recipe>), which runs the canonical version, and the
	// head is deployed onto that data. A warm run never promotes.
	BaseFromWarm BaseFrom = "warm"
)

// Known reports whether f is one of the places a base can come from.
func (f BaseFrom) Known() bool { return f == BaseFromCold || f == BaseFromWarm }

// BaseSource is a run's choice of where its base comes from.
type BaseSource struct {
	// From is cold or warm; empty means cold.
	From BaseFrom `json:"from,omitempty"`
}

// Warm reports whether the run asks to start from the warm stack.
func (s *TestRunSpec) Warm() bool { return s.Base != nil && s.Base.From == BaseFromWarm }

// HasStage reports whether the run asks for stage.
func (s *TestRunSpec) HasStage(stage Stage) bool {
	for _, x := range s.Stages {
		if x == stage {
			return true
		}
	}
	return false
}

// BaseKind says where a run's upgrade base came from.
type BaseKind string

// Base kinds.
const (
	BaseVersion BaseKind = "version" // a published version (explicit or the canonical)
	BaseRef     BaseKind = "ref"     // a commit: the target branch tip or an explicit commit
	BaseNone    BaseKind = "none"    // no upgrade: install deploys the head directly
	// BaseWarm is the canonical version as the warm stack runs it: its data is copied into
	// the run's stack instead of a base deploy (spec.base.from: warm).
	BaseWarm BaseKind = "warm"
)

// BasePlan is the resolved upgrade base with the human reason for it.
type BasePlan struct {
	Kind    BaseKind `json:"kind"`
	Version string   `json:"version,omitempty"`
	Ref     string   `json:"ref,omitempty"`
	Commit  string   `json:"commit,omitempty"`
	Reason  string   `json:"reason"`
	// Previous reports whether the recipe's base-only repair applies, or why not.
	Previous string `json:"previous,omitempty"`
	// Warm records, for a warm base, the copy of the warm stack's data.
	Warm *WarmBase `json:"warm,omitempty"`
}

// WarmBase is the copy of a warm stack's data that a warm run starts from.
type WarmBase struct {
	// Stack is the warm stack copied from.
	Stack string `json:"stack"`
	// Volumes are the volumes copied.
	Volumes []VolumeCopy `json:"volumes,omitempty"`
	// CopiedAt is when the copy finished.
	CopiedAt *Time `json:"copiedAt,omitempty"`
}

// VolumeCopy is one volume of a warm stack copied into a run's stack.
type VolumeCopy struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Bytes int64  `json:"bytes"`
}

// HeadStatus is the resolved head under test.
type HeadStatus struct {
	Ref          string `json:"ref"`
	Commit       string `json:"commit"`
	Version      string `json:"version,omitempty"`
	ChaosVersion string `json:"chaosVersion,omitempty"`
}

// ImageRecord is one service's image in a deploy.
type ImageRecord struct {
	Service string `json:"service"`
	Image   string `json:"image"`
	Digest  string `json:"digest,omitempty"`

	// Compose is the image the compose file names, when an image override changed it
	// (Image is then the overridden reference the service runs).
	Compose string `json:"compose,omitempty"`
}

// DeployRecord is one phase's deploy of a run.
type DeployRecord struct {
	Role         string        `json:"role"`
	Commit       string        `json:"commit,omitempty"`
	ComposeFiles []string      `json:"composeFiles,omitempty"`
	RenderDigest string        `json:"renderDigest,omitempty"`
	Images       []ImageRecord `json:"images,omitempty"`
	Created      []string      `json:"created,omitempty"`
	Updated      []string      `json:"updated,omitempty"`
	Unchanged    []string      `json:"unchanged,omitempty"`
	StartedAt    *Time         `json:"startedAt,omitempty"`
	ConvergedAt  *Time         `json:"convergedAt,omitempty"`
	// Targets are the services the apply's convergence is judged against.
	Targets []DeployTarget `json:"targets,omitempty"`
	// Convergence is what the looks at this deploy have seen so far.
	Convergence *Convergence `json:"convergence,omitempty"`
}

// DeployTarget is one service whose convergence a deploy waits for.
type DeployTarget struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	// PrevVersion is the service's version observed before the apply, zero when the apply
	// created it: only update states written after it belong to this apply.
	PrevVersion uint64 `json:"prevVersion,omitempty"`
	// Changed says whether the apply created or updated the service.
	Changed bool `json:"changed,omitempty"`
}

// Convergence is what swarmrun has seen of one deploy's convergence, kept between looks: each
// reconcile takes one look, and a restarted controller judges as the last look did. Times
// keep their full precision, since stability windows are seconds long.
type Convergence struct {
	// FirstLook is when the first look was taken; LastChange when a look last saw a change.
	FirstLook  time.Time `json:"firstLook,omitzero"`
	LastChange time.Time `json:"lastChange,omitzero"`
	// SeenRunning maps task IDs to when a look first saw them running (the zero time for
	// tasks already running at the first look).
	SeenRunning map[string]time.Time `json:"seenRunning,omitempty"`
	// Health maps container IDs to the last health status their events reported.
	Health map[string]string `json:"health,omitempty"`
	// Services are the services as the last look judged them.
	Services []ServiceConvergence `json:"services,omitempty"`
}

// ServiceConvergence is one service of a deploy as the last look judged it.
type ServiceConvergence struct {
	Name string `json:"name"`
	// Phase is Pending, Converging, Stabilising, Converged or Failed.
	Phase       string    `json:"phase"`
	Reason      string    `json:"reason,omitempty"`
	Running     int       `json:"running"`
	Desired     int       `json:"desired"`
	UpdateState string    `json:"updateState,omitempty"`
	Message     string    `json:"message,omitempty"`
	ConvergedAt time.Time `json:"convergedAt,omitzero"`
}

// TierResultValue is a tier's or a check's outcome.
type TierResultValue string

// Tier and check outcomes.
const (
	ResultPassed        TierResultValue = "passed"
	ResultFailed        TierResultValue = "failed"
	ResultNotApplicable TierResultValue = "notApplicable"
	ResultSkipped       TierResultValue = "skipped"
)

// TierResult is the outcome of one tier with its checks.
type TierResult struct {
	Result TierResultValue `json:"result"`
	Reason string          `json:"reason,omitempty"`
	Checks []CheckResult   `json:"checks,omitempty"`
	// Artifacts are files the tier left under <data-dir>/runs/<testrun>/ (the backup
	// tier's archive).
	Artifacts []Artifact `json:"artifacts,omitempty"`
}

// Artifact is a file a run keeps, with its digest.
type Artifact struct {
	Name string `json:"name"`
	// Path is relative to the run's directory, <data-dir>/runs/<testrun>/.
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// CheckResult is the outcome of one check. Output is trimmed and has secrets masked.
type CheckResult struct {
	Name     string          `json:"name"`
	Result   TierResultValue `json:"result"`
	Duration Duration        `json:"duration"`
	Message  string          `json:"message,omitempty"`
	Output   string          `json:"output,omitempty"`
	// Source says where the check came from (CheckSource...).
	Source string `json:"source,omitempty"`
}

// Where a check comes from, as CheckResult.Source says.
const (
	// CheckSourceRecipe: the Recipe object's spec.checks.
	CheckSourceRecipe = "Recipe"
	// CheckSourceHead and CheckSourceBase: the recipe repository's own RecipeTestsFile at
	// the head's or the base's commit.
	CheckSourceHead = "head:" + RecipeTestsFile
	CheckSourceBase = "base:" + RecipeTestsFile
	// CheckSourceBuiltin: swarmrun's own checks (convergence, verification, backupbot).
	CheckSourceBuiltin = "builtin"
)

// TestRunStatus is the observed state of a TestRun.
type TestRunStatus struct {
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// RecipeGeneration is the generation of the Recipe the run resolved with: the run
	// deploys that spec or none.
	RecipeGeneration int64                 `json:"recipeGeneration,omitempty"`
	Conditions       []Condition           `json:"conditions,omitempty"`
	Stack            string                `json:"stack,omitempty"`
	Base             *BasePlan             `json:"base,omitempty"`
	Head             *HeadStatus           `json:"head,omitempty"`
	Deploys          []DeployRecord        `json:"deploys,omitempty"`
	Pruned           []string              `json:"pruned,omitempty"`
	Tiers            map[string]TierResult `json:"tiers,omitempty"`
	Level            int                   `json:"level"`
	StartedAt        *Time                 `json:"startedAt,omitempty"`
	CompletedAt      *Time                 `json:"completedAt,omitempty"`
}

// TestRunList is a list of TestRuns.
type TestRunList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata"`
	Items    []TestRun `json:"items"`
}
