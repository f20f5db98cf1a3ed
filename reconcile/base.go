package reconcile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/stack"
)

// BaseInput is everything upgrade base resolution looks at. The caller resolves refs
// against the recipe source first; ResolveBase itself reads nothing.
type BaseInput struct {
	// Run is the TestRun's spec. Empty Stages means all stages.
	Run v1alpha1.TestRunSpec
	// Recipe is the Recipe's spec (expectedNotApplicable, previous).
	Recipe v1alpha1.RecipeSpec
	// Canonical is the Recipe's last green record (Recipe.Status.Canonical), if any.
	Canonical *v1alpha1.Canonical

	// HeadCommit is the full commit under test.
	HeadCommit string
	// HeadVersion is the release tag at the head, empty when the head is not a release.
	HeadVersion string

	// Published are the recipe's release tags, in any order.
	Published []stack.Version

	// TargetBranch is the branch the head merges onto (main or master), empty when the
	// source has none; TargetCommit is its tip.
	TargetBranch string
	TargetCommit string

	// UpgradeBaseCommit is the commit Run.UpgradeBase resolved to. The caller fails the run
	// when an explicit base does not resolve, rather than calling ResolveBase.
	UpgradeBaseCommit string
}

// ResolveBase decides the upgrade base of a run, in this order: no base when upgrade is not
// wanted; the explicit spec.upgradeBase; the warm stack's data at the canonical version when
// the run asks to start warm (spec.base.from); the Recipe's last green version; the target
// branch tip; none. A base is never the head itself unless the operator asked for it: when the last
// green version is not older than the head's version, or the branch tip is the head, it
// steps back to the newest published version older than the head. Every plan carries a
// human reason, and Previous says whether the recipe's base-only repair applies.
func ResolveBase(in BaseInput) v1alpha1.BasePlan {
	plan := resolveBase(in)
	plan.Previous = PreviousFor(plan, in.Recipe.Previous).Message
	return plan
}

func resolveBase(in BaseInput) v1alpha1.BasePlan {
	if !wantsStage(in.Run, v1alpha1.StageUpgrade) {
		return none("upgrade not in stages")
	}
	if reason, ok := in.Recipe.NotApplicable(v1alpha1.StageUpgrade); ok {
		return none(fmt.Sprintf("upgrade declared not applicable: %s", reason))
	}
	if in.Run.UpgradeBase != "" {
		return explicitBase(in)
	}
	if in.Run.Warm() && in.Canonical != nil && in.Canonical.Version != "" {
		return warmPlan(in)
	}

	var note string
	if c := in.Canonical; c != nil && c.Version != "" {
		commit := c.Commit
		if v, ok := published(in.Published, c.Version); ok {
			commit = v.Commit
		}
		switch {
		case commit == "":
			note = fmt.Sprintf("last green %s has no commit and is not published; ", c.Version)
		case olderThanHead(in, c.Version, commit):
			return v1alpha1.BasePlan{
				Kind:    v1alpha1.BaseVersion,
				Version: c.Version,
				Ref:     c.Version,
				Commit:  commit,
				Reason:  fmt.Sprintf("last green %s (canonical)", c.Version),
			}
		default:
			why := fmt.Sprintf("last green %s is not older than head %s", c.Version, headName(in))
			if v, ok := newestOlder(in); ok {
				return versionBase(v, fmt.Sprintf("newest published version %s older than head (%s)", v.Tag, why))
			}
			note = why + " and no older version is published; "
		}
	}

	if in.TargetBranch != "" && in.TargetCommit != "" {
		tip := fmt.Sprintf("target-branch (%s) tip", in.TargetBranch)
		if in.TargetCommit != in.HeadCommit {
			return v1alpha1.BasePlan{
				Kind:   v1alpha1.BaseRef,
				Ref:    in.TargetBranch,
				Commit: in.TargetCommit,
				Reason: note + tip,
			}
		}
		why := tip + " is the head"
		if v, ok := newestOlder(in); ok {
			return versionBase(v, fmt.Sprintf("%snewest published version %s (%s)", note, v.Tag, why))
		}
		return none(note + why + " and no older version is published")
	}
	return none(note + "no last green version and no target branch")
}

// explicitBase plans the operator's spec.upgradeBase. It is a version base when it names a
// published version or its commit carries one, and a ref base otherwise.
func explicitBase(in BaseInput) v1alpha1.BasePlan {
	ref := in.Run.UpgradeBase
	reason := fmt.Sprintf("explicit upgradeBase %s", ref)
	if v, ok := published(in.Published, ref); ok {
		plan := versionBase(v, reason)
		if in.UpgradeBaseCommit != "" {
			plan.Commit = in.UpgradeBaseCommit
		}
		return plan
	}
	if v, ok := publishedAt(in.Published, in.UpgradeBaseCommit); ok {
		plan := versionBase(v, reason)
		plan.Ref = ref
		return plan
	}
	return v1alpha1.BasePlan{Kind: v1alpha1.BaseRef, Ref: ref, Commit: in.UpgradeBaseCommit, Reason: reason}
}

func none(reason string) v1alpha1.BasePlan {
	return v1alpha1.BasePlan{Kind: v1alpha1.BaseNone, Reason: reason}
}

func versionBase(v stack.Version, reason string) v1alpha1.BasePlan {
	return v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: v.Tag, Ref: v.Tag, Commit: v.Commit, Reason: reason}
}

func wantsStage(run v1alpha1.TestRunSpec, stage v1alpha1.Stage) bool {
	return len(run.Stages) == 0 || run.HasStage(stage)
}

// olderThanHead reports whether a version (at commit) is a sensible base for the head:
// strictly older than the head's version, and never the head commit itself.
func olderThanHead(in BaseInput, version, commit string) bool {
	if commit != "" && commit == in.HeadCommit {
		return false
	}
	if v, ok := published(in.Published, version); ok && v.Commit == in.HeadCommit {
		return false
	}
	if in.HeadVersion == "" {
		return true
	}
	return stack.CompareVersions(version, in.HeadVersion) < 0
}

// newestOlder is the newest published version that is older than the head: by version when
// the head is a release, otherwise any published version not at the head commit.
func newestOlder(in BaseInput) (stack.Version, bool) {
	vs := slices.Clone(in.Published)
	stack.SortVersions(vs)
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		if !stack.IsReleaseTag(v.Tag) || v.Commit == "" {
			continue
		}
		if olderThanHead(in, v.Tag, v.Commit) {
			return v, true
		}
	}
	return stack.Version{}, false
}

func published(vs []stack.Version, tag string) (stack.Version, bool) {
	for _, v := range vs {
		if v.Tag == tag {
			return v, true
		}
	}
	return stack.Version{}, false
}

// publishedAt is the newest published version at commit.
func publishedAt(vs []stack.Version, commit string) (stack.Version, bool) {
	var best stack.Version
	found := false
	for _, v := range vs {
		if commit != "" && v.Commit == commit && (!found || stack.CompareVersions(v.Tag, best.Tag) > 0) {
			best, found = v, true
		}
	}
	return best, found
}

func headName(in BaseInput) string {
	if in.HeadVersion != "" {
		return in.HeadVersion
	}
	return shortSHA(in.HeadCommit)
}

// describeHead names a head as people read it: "main at 8ecb9749", or "commit 8ecb9749" when
// the ref is the commit (a pull request's head).
func describeHead(ref, commit string) string {
	if ref == "" || strings.HasPrefix(commit, ref) {
		return "commit " + shortSHA(commit)
	}
	return ref + " at " + shortSHA(commit)
}

func shortSHA(sha string) string {
	if len(sha) > 8 {
		return sha[:8]
	}
	return sha
}

// PreviousDecision says whether a recipe's base-only repair (spec.previous) applies to a
// run's base deploy.
type PreviousDecision struct {
	// Declared is true when the recipe has a previous repair at all.
	Declared bool
	// Applies is true when the base is exactly the repair's published version.
	Applies bool
	// Stale is true when the repair is declared but skipped on a base that exists: the
	// reconciler reports it as a PreviousStale warning condition and event.
	Stale bool
	// Message says what was decided and why, for status and events.
	Message string
}

// PreviousFor decides the recipe's base-only repair for a base plan: it applies only when
// the base is a version base equal to its version. On a branch-tip base, an explicit commit
// or another version it is skipped and stale; with no base there is nothing to repair.
func PreviousFor(plan v1alpha1.BasePlan, prev *v1alpha1.Previous) PreviousDecision {
	if prev == nil || prev.Version == "" {
		return PreviousDecision{}
	}
	d := PreviousDecision{Declared: true}
	switch {
	case plan.Kind == v1alpha1.BaseVersion && plan.Version == prev.Version:
		d.Applies = true
		d.Message = fmt.Sprintf("previous %s applies: the base is that version", prev.Version)
	case plan.Kind == v1alpha1.BaseNone || plan.Kind == "":
		d.Message = fmt.Sprintf("previous %s skipped: no base deploy", prev.Version)
	case plan.Kind == v1alpha1.BaseWarm:
		d.Message = fmt.Sprintf("previous %s skipped: the base is a copy of the warm stack's data, not a deploy", prev.Version)
	case plan.Kind == v1alpha1.BaseVersion:
		d.Stale = true
		d.Message = fmt.Sprintf("previous %s is stale: the base is version %s (%s)", prev.Version, plan.Version, plan.Reason)
	default:
		d.Stale = true
		d.Message = fmt.Sprintf("previous %s is stale: the base is %s at %s, not a published version", prev.Version, plan.Reason, shortSHA(plan.Commit))
	}
	return d
}
