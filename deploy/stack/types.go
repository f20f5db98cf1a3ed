package stack

import (
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/lint"
	"github.com/swarmrun/swarmrun/deploy/recipe"
)

// The recipe side and the convergence vocabulary of a deploy, under the names the
// pipeline's callers use, so that a reconciler needs this one package of the deploy tree.
type (
	// Source is an opened recipe source (recipe.Source).
	Source = recipe.Source
	// Commit is a resolved ref (recipe.Commit).
	Commit = recipe.Commit
	// Version is a release version (recipe.Version).
	Version = recipe.Version
	// AppDeploy says which coop-cloud labels a deploy's app service gets (recipe.AppDeploy).
	AppDeploy = recipe.AppDeploy
	// Target is one service whose convergence is judged (converge.Target).
	Target = converge.Target
	// Memo is what is kept between looks at one deploy (converge.Memo).
	Memo = converge.Memo
	// ServiceMemo is one service as the last look judged it (converge.ServiceMemo).
	ServiceMemo = converge.ServiceMemo
	// Step is the outcome of one look (converge.Step).
	Step = converge.Step
	// Progress is one service's convergence state (converge.Progress).
	Progress = converge.Progress
	// Phase is where a service stands on its way to convergence (converge.Phase).
	Phase = converge.Phase
	// ConvergeError is a deploy that did not converge (converge.Error).
	ConvergeError = converge.Error
	// ConvergeReason says why (converge.Reason).
	ConvergeReason = converge.Reason
	// Report describes the services of a deploy as of a look (converge.Report).
	Report = converge.Report
	// TaskSummary is the part of a task that explains a service's state.
	TaskSummary = converge.TaskSummary
	// State is the live state of a stack (deploy.StackState).
	State = deploy.StackState
	// ServiceState is the live state of one service (deploy.ServiceState).
	ServiceState = deploy.ServiceState
	// Ownership is what a stack's labels say about who owns it (inventory.Ownership).
	Ownership = inventory.Ownership
	// Removal lists what a removal step removed (deploy.Removal).
	Removal = deploy.Removal
	// Finding is one lint finding (lint.Finding).
	Finding = lint.Finding
	// LintResult is one lint rule's outcome (lint.Result).
	LintResult = lint.Result
)

// Phases and reasons of convergence, as converge names them.
const (
	PhaseConverged = converge.PhaseConverged
	PhaseFailed    = converge.PhaseFailed

	ImageNotFound = converge.ImageNotFound
	Timeout       = converge.Timeout
	RolledBack    = converge.RolledBack
	UpdatePaused  = converge.UpdatePaused
	Unhealthy     = converge.Unhealthy
)

// Errors of the recipe side, for the reconcilers' one mapping of errors to reasons.
var (
	ErrRefNotFound    = recipe.ErrRefNotFound
	ErrAmbiguousRef   = recipe.ErrAmbiguousRef
	ErrNoTargetBranch = recipe.ErrNoTargetBranch
	ErrCommitNotFound = recipe.ErrCommitNotFound
	ErrNoRender       = deploy.ErrNoRender
)

// ChaosVersion is the chaos-version label value of a commit (recipe.ChaosVersion).
func ChaosVersion(commit string, dirty bool) string { return recipe.ChaosVersion(commit, dirty) }

// LabelVersion is the key of the version label of stack's app service.
func LabelVersion(stack string) string { return recipe.LabelVersion(stack) }

// LabelChaosVersion is the key of the chaos-version label of stack's app service.
func LabelChaosVersion(stack string) string { return recipe.LabelChaosVersion(stack) }

// Lint runs the recipe rules (package lint: abra's R001 to R015, then swarmrun's own) on
// the recipe as it writes itself (the deploy's plain render, see Plain), with its checkout
// and tags, and returns the findings. A recipe that does not render as written (a base-only
// repair's overlay mends it) is one critical finding.
func (pr *Prepared) Lint(appService string) []Finding {
	if pr.plainErr != nil {
		return []Finding{{Rule: LintRender, Severity: LintError, Object: "compose",
			Message: "the recipe does not render as written (without the deploy's overlays): " + pr.plainErr.Error()}}
	}
	return lint.Run(pr.plain.lintInput(appService))
}

// LintRender names the finding of a recipe that does not render as written.
const LintRender = "render"

// Lint judges every rule on the plain render (package lint), in order.
func (pl *Plain) Lint(appService string) []LintResult {
	return lint.Check(pl.lintInput(appService))
}

func (pl *Plain) lintInput(appService string) lint.Input {
	return lint.Input{Stack: pl.render, AppService: appService, Dir: pl.Dir, Env: pl.in.env, Tags: pl.in.tags, TagsErr: pl.in.tagsErr}
}

// LintPassed reports whether findings hold no critical one.
func LintPassed(findings []Finding) bool { return lint.Passed(findings) }

// LintError is the severity of a finding that fails the lint rung: abra's critical.
const LintError = lint.Critical

// CompareVersions orders release versions by their recipe semver (recipe.CompareVersions).
func CompareVersions(a, b string) int { return recipe.CompareVersions(a, b) }

// SortVersions sorts versions oldest first (recipe.SortVersions).
func SortVersions(vs []Version) { recipe.SortVersions(vs) }

// IsReleaseTag reports whether tag is a recipe release version (recipe.ParseVersion).
func IsReleaseTag(tag string) bool {
	_, err := recipe.ParseVersion(tag)
	return err == nil
}
