package reconcile

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/recipe"
)

// Commits of a recipe history used by the table: three releases, a branch tip ahead of them
// and a pull request head.
const (
	c060  = "0600000000000000000000000000000000000000"
	c070  = "0700000000000000000000000000000000000000"
	c080  = "0800000000000000000000000000000000000000"
	cMain = "aaaa000000000000000000000000000000000000"
	cPR   = "ae5a818000000000000000000000000000000000"
	cUser = "beef000000000000000000000000000000000000"
)

func publishedVersions() []recipe.Version {
	// Deliberately unsorted: ResolveBase must not rely on the order.
	return []recipe.Version{
		{Tag: "0.8.0+3.4.0", Commit: c080},
		{Tag: "0.6.0+3.2.0", Commit: c060},
		{Tag: "0.7.0+3.3.1", Commit: c070},
	}
}

// prInput is a pull request head on a recipe with a main branch and no last green record.
func prInput() BaseInput {
	return BaseInput{
		HeadCommit:   cPR,
		Published:    publishedVersions(),
		TargetBranch: "main",
		TargetCommit: cMain,
	}
}

func TestResolveBase(t *testing.T) {
	canonical := func(v, c string) *v1alpha1.Canonical {
		return &v1alpha1.Canonical{Version: v, Commit: c, Status: "green"}
	}
	tests := []struct {
		name   string
		modify func(*BaseInput)
		want   v1alpha1.BasePlan
	}{
		{
			name:   "canonical present: version base at that tag",
			modify: func(in *BaseInput) { in.Canonical = canonical("0.7.0+3.3.1", c070) },
			want:   v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.7.0+3.3.1", Ref: "0.7.0+3.3.1", Commit: c070, Reason: "last green 0.7.0+3.3.1 (canonical)"},
		},
		{
			name:   "no canonical: main tip",
			modify: func(in *BaseInput) {},
			want:   v1alpha1.BasePlan{Kind: v1alpha1.BaseRef, Ref: "main", Commit: cMain, Reason: "target-branch (main) tip"},
		},
		{
			name:   "no canonical: master tip on a master recipe",
			modify: func(in *BaseInput) { in.TargetBranch = "master" },
			want:   v1alpha1.BasePlan{Kind: v1alpha1.BaseRef, Ref: "master", Commit: cMain, Reason: "target-branch (master) tip"},
		},
		{
			name: "upgrade not in stages: none even with a canonical",
			modify: func(in *BaseInput) {
				in.Run.Stages = []v1alpha1.Stage{"install", "custom"}
				in.Canonical = canonical("0.7.0+3.3.1", c070)
			},
			want: v1alpha1.BasePlan{Kind: v1alpha1.BaseNone, Reason: "upgrade not in stages"},
		},
		{
			name: "upgrade declared not applicable: none",
			modify: func(in *BaseInput) {
				in.Recipe.ExpectedNotApplicable = map[v1alpha1.Stage]string{"upgrade": "single release"}
			},
			want: v1alpha1.BasePlan{Kind: v1alpha1.BaseNone, Reason: "upgrade declared not applicable: single release"},
		},
		{
			name: "upgrade not in stages beats an explicit base",
			modify: func(in *BaseInput) {
				in.Run.Stages = []v1alpha1.Stage{"install"}
				in.Run.UpgradeBase = "0.6.0+3.2.0"
			},
			want: v1alpha1.BasePlan{Kind: v1alpha1.BaseNone, Reason: "upgrade not in stages"},
		},
		{
			name: "explicit version wins over the canonical",
			modify: func(in *BaseInput) {
				in.Canonical = canonical("0.7.0+3.3.1", c070)
				in.Run.UpgradeBase = "0.6.0+3.2.0"
				in.UpgradeBaseCommit = c060
			},
			want: v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.6.0+3.2.0", Ref: "0.6.0+3.2.0", Commit: c060, Reason: "explicit upgradeBase 0.6.0+3.2.0"},
		},
		{
			name: "explicit commit wins: ref base",
			modify: func(in *BaseInput) {
				in.Canonical = canonical("0.7.0+3.3.1", c070)
				in.Run.UpgradeBase = "beef"
				in.UpgradeBaseCommit = cUser
			},
			want: v1alpha1.BasePlan{Kind: v1alpha1.BaseRef, Ref: "beef", Commit: cUser, Reason: "explicit upgradeBase beef"},
		},
		{
			name: "explicit commit of a release: version base",
			modify: func(in *BaseInput) {
				in.Run.UpgradeBase = "07000000"
				in.UpgradeBaseCommit = c070
			},
			want: v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.7.0+3.3.1", Ref: "07000000", Commit: c070, Reason: "explicit upgradeBase 07000000"},
		},
		{
			name: "explicit base equal to the head is the operator's call",
			modify: func(in *BaseInput) {
				in.Run.UpgradeBase = "0.8.0+3.4.0"
				in.UpgradeBaseCommit = c080
				in.HeadCommit, in.HeadVersion = c080, "0.8.0+3.4.0"
			},
			want: v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.8.0+3.4.0", Ref: "0.8.0+3.4.0", Commit: c080, Reason: "explicit upgradeBase 0.8.0+3.4.0"},
		},
		{
			name: "canonical equal to the head version: newest older tag",
			modify: func(in *BaseInput) {
				in.Canonical = canonical("0.8.0+3.4.0", c080)
				in.HeadCommit, in.HeadVersion = c080, "0.8.0+3.4.0"
			},
			want: v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.7.0+3.3.1", Ref: "0.7.0+3.3.1", Commit: c070,
				Reason: "newest published version 0.7.0+3.3.1 older than head (last green 0.8.0+3.4.0 is not older than head 0.8.0+3.4.0)"},
		},
		{
			name: "canonical newer than the head version: newest older tag",
			modify: func(in *BaseInput) {
				in.Canonical = canonical("0.8.0+3.4.0", c080)
				in.HeadCommit, in.HeadVersion = c070, "0.7.0+3.3.1"
			},
			want: v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.6.0+3.2.0", Ref: "0.6.0+3.2.0", Commit: c060,
				Reason: "newest published version 0.6.0+3.2.0 older than head (last green 0.8.0+3.4.0 is not older than head 0.7.0+3.3.1)"},
		},
		{
			name: "canonical at the head commit without a head version: newest other tag",
			modify: func(in *BaseInput) {
				in.Canonical = canonical("0.8.0+3.4.0", c080)
				in.HeadCommit = c080
			},
			want: v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.7.0+3.3.1", Ref: "0.7.0+3.3.1", Commit: c070,
				Reason: "newest published version 0.7.0+3.3.1 older than head (last green 0.8.0+3.4.0 is not older than head 08000000)"},
		},
		{
			name: "canonical equal to the oldest head: falls through to the branch tip",
			modify: func(in *BaseInput) {
				in.Canonical = canonical("0.6.0+3.2.0", c060)
				in.HeadCommit, in.HeadVersion = c060, "0.6.0+3.2.0"
			},
			want: v1alpha1.BasePlan{Kind: v1alpha1.BaseRef, Ref: "main", Commit: cMain,
				Reason: "last green 0.6.0+3.2.0 is not older than head 0.6.0+3.2.0 and no older version is published; target-branch (main) tip"},
		},
		{
			name:   "canonical commit comes from the published tag",
			modify: func(in *BaseInput) { in.Canonical = canonical("0.7.0+3.3.1", "") },
			want:   v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.7.0+3.3.1", Ref: "0.7.0+3.3.1", Commit: c070, Reason: "last green 0.7.0+3.3.1 (canonical)"},
		},
		{
			name:   "canonical record of an unpublished tag keeps its commit",
			modify: func(in *BaseInput) { in.Canonical = canonical("0.7.5+3.3.2", cUser) },
			want:   v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.7.5+3.3.2", Ref: "0.7.5+3.3.2", Commit: cUser, Reason: "last green 0.7.5+3.3.2 (canonical)"},
		},
		{
			name:   "canonical with no commit anywhere: branch tip",
			modify: func(in *BaseInput) { in.Canonical = canonical("0.7.5+3.3.2", "") },
			want: v1alpha1.BasePlan{Kind: v1alpha1.BaseRef, Ref: "main", Commit: cMain,
				Reason: "last green 0.7.5+3.3.2 has no commit and is not published; target-branch (main) tip"},
		},
		{
			name:   "head is the branch tip: newest published version",
			modify: func(in *BaseInput) { in.HeadCommit = cMain },
			want: v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.8.0+3.4.0", Ref: "0.8.0+3.4.0", Commit: c080,
				Reason: "newest published version 0.8.0+3.4.0 (target-branch (main) tip is the head)"},
		},
		{
			name:   "head is the branch tip of a recipe without releases: none",
			modify: func(in *BaseInput) { in.HeadCommit = cMain; in.Published = nil },
			want:   v1alpha1.BasePlan{Kind: v1alpha1.BaseNone, Reason: "target-branch (main) tip is the head and no older version is published"},
		},
		{
			name:   "no canonical and no target branch: none",
			modify: func(in *BaseInput) { in.TargetBranch, in.TargetCommit = "", "" },
			want:   v1alpha1.BasePlan{Kind: v1alpha1.BaseNone, Reason: "no last green version and no target branch"},
		},
		{
			name:   "stages empty means all: upgrade wanted",
			modify: func(in *BaseInput) { in.Run.Stages = nil },
			want:   v1alpha1.BasePlan{Kind: v1alpha1.BaseRef, Ref: "main", Commit: cMain, Reason: "target-branch (main) tip"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := prInput()
			in.Run.Stages = v1alpha1.Stages()
			tt.modify(&in)
			if got := ResolveBase(in); got != tt.want {
				t.Errorf("ResolveBase() =\n  %+v\nwant\n  %+v", got, tt.want)
			}
		})
	}
}

func TestResolveBaseDoesNotReorderPublished(t *testing.T) {
	in := prInput()
	in.HeadCommit = cMain
	before := fmt.Sprint(in.Published)
	ResolveBase(in)
	if after := fmt.Sprint(in.Published); after != before {
		t.Errorf("Published changed from %s to %s", before, after)
	}
}

func TestPreviousFor(t *testing.T) {
	prev := &v1alpha1.Previous{Version: "0.7.0+3.3.1"}
	tests := []struct {
		name string
		plan v1alpha1.BasePlan
		prev *v1alpha1.Previous
		want PreviousDecision
	}{
		{
			name: "no previous declared",
			plan: v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.7.0+3.3.1"},
			want: PreviousDecision{},
		},
		{
			name: "matching version base: applies",
			plan: v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.7.0+3.3.1", Commit: c070, Reason: "last green 0.7.0+3.3.1 (canonical)"},
			prev: prev,
			want: PreviousDecision{Declared: true, Applies: true, Message: "previous 0.7.0+3.3.1 applies: the base is that version"},
		},
		{
			name: "another version: stale",
			plan: v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.8.0+3.4.0", Commit: c080, Reason: "last green 0.8.0+3.4.0 (canonical)"},
			prev: prev,
			want: PreviousDecision{Declared: true, Stale: true,
				Message: "previous 0.7.0+3.3.1 is stale: the base is version 0.8.0+3.4.0 (last green 0.8.0+3.4.0 (canonical))"},
		},
		{
			name: "same semver, other upstream: stale",
			plan: v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.7.0+3.3.2", Reason: "explicit upgradeBase 0.7.0+3.3.2"},
			prev: prev,
			want: PreviousDecision{Declared: true, Stale: true,
				Message: "previous 0.7.0+3.3.1 is stale: the base is version 0.7.0+3.3.2 (explicit upgradeBase 0.7.0+3.3.2)"},
		},
		{
			name: "branch tip: stale",
			plan: v1alpha1.BasePlan{Kind: v1alpha1.BaseRef, Ref: "main", Commit: cMain, Reason: "target-branch (main) tip"},
			prev: prev,
			want: PreviousDecision{Declared: true, Stale: true,
				Message: "previous 0.7.0+3.3.1 is stale: the base is target-branch (main) tip at aaaa0000, not a published version"},
		},
		{
			name: "explicit commit at the version's commit but not resolved to it: stale",
			plan: v1alpha1.BasePlan{Kind: v1alpha1.BaseRef, Ref: "beef", Commit: cUser, Reason: "explicit upgradeBase beef"},
			prev: prev,
			want: PreviousDecision{Declared: true, Stale: true,
				Message: "previous 0.7.0+3.3.1 is stale: the base is explicit upgradeBase beef at beef0000, not a published version"},
		},
		{
			name: "no base: skipped, not stale",
			plan: v1alpha1.BasePlan{Kind: v1alpha1.BaseNone, Reason: "upgrade not in stages"},
			prev: prev,
			want: PreviousDecision{Declared: true, Message: "previous 0.7.0+3.3.1 skipped: no base deploy"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PreviousFor(tt.plan, tt.prev); got != tt.want {
				t.Errorf("PreviousFor() =\n  %+v\nwant\n  %+v", got, tt.want)
			}
		})
	}
}

func TestResolveBaseRecordsPrevious(t *testing.T) {
	tests := []struct {
		name      string
		canonical *v1alpha1.Canonical
		want      string
	}{
		{name: "canonical at the previous version", canonical: &v1alpha1.Canonical{Version: "0.7.0+3.3.1", Commit: c070},
			want: "previous 0.7.0+3.3.1 applies: the base is that version"},
		{name: "branch tip", canonical: nil,
			want: "previous 0.7.0+3.3.1 is stale: the base is target-branch (main) tip at aaaa0000, not a published version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := prInput()
			in.Canonical = tt.canonical
			in.Recipe.Previous = &v1alpha1.Previous{Version: "0.7.0+3.3.1"}
			if got := ResolveBase(in).Previous; got != tt.want {
				t.Errorf("Previous = %q, want %q", got, tt.want)
			}
		})
	}
}

// baseInputGen draws a recipe history and a run: published versions, a head that may be one
// of them, a canonical that may be one of them (or a record of anything), a target branch,
// stages, a not-applicable declaration and an explicit base.
func baseInputGen() *rapid.Generator[BaseInput] {
	return rapid.Custom(func(t *rapid.T) BaseInput {
		commit := func(label string) string {
			return fmt.Sprintf("%040x", rapid.IntRange(1, 12).Draw(t, label))
		}
		var in BaseInput
		n := rapid.IntRange(0, 6).Draw(t, "versions")
		seen := map[string]bool{}
		for i := range n {
			tag := fmt.Sprintf("%d.%d.%d+1.%d", rapid.IntRange(0, 2).Draw(t, "major"), rapid.IntRange(0, 2).Draw(t, "minor"),
				rapid.IntRange(0, 2).Draw(t, "patch"), i)
			if seen[tag] {
				continue
			}
			seen[tag] = true
			in.Published = append(in.Published, recipe.Version{Tag: tag, Commit: commit("versionCommit")})
		}
		if len(in.Published) > 0 && rapid.Bool().Draw(t, "headIsRelease") {
			v := rapid.SampledFrom(in.Published).Draw(t, "head")
			in.HeadCommit, in.HeadVersion = v.Commit, v.Tag
		} else {
			in.HeadCommit = commit("headCommit")
		}
		switch rapid.IntRange(0, 2).Draw(t, "canonical") {
		case 1:
			if len(in.Published) > 0 {
				v := rapid.SampledFrom(in.Published).Draw(t, "canonicalVersion")
				in.Canonical = &v1alpha1.Canonical{Version: v.Tag, Commit: v.Commit}
			}
		case 2:
			in.Canonical = &v1alpha1.Canonical{Version: "9.9.9+record", Commit: commit("canonicalCommit")}
		}
		if rapid.Bool().Draw(t, "hasTarget") {
			in.TargetBranch = rapid.SampledFrom([]string{"main", "master"}).Draw(t, "targetBranch")
			in.TargetCommit = commit("targetCommit")
		}
		for _, s := range v1alpha1.Stages() {
			if rapid.Bool().Draw(t, "stage "+string(s)) {
				in.Run.Stages = append(in.Run.Stages, s)
			}
		}
		if rapid.IntRange(0, 4).Draw(t, "notApplicable") == 0 {
			in.Recipe.ExpectedNotApplicable = map[v1alpha1.Stage]string{v1alpha1.StageUpgrade: "declared"}
		}
		if rapid.IntRange(0, 3).Draw(t, "explicit") == 0 {
			in.Run.UpgradeBase = rapid.SampledFrom([]string{"0.1.0+1.0", "1.1.1+1.3", "feature", "abc123"}).Draw(t, "upgradeBase")
			in.UpgradeBaseCommit = commit("upgradeBaseCommit")
		}
		if rapid.Bool().Draw(t, "previous") {
			in.Recipe.Previous = &v1alpha1.Previous{Version: rapid.SampledFrom([]string{"0.1.0+1.0", "1.1.1+1.3", "9.9.9+record"}).Draw(t, "previousVersion")}
		}
		return in
	})
}

func TestResolveBaseProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := baseInputGen().Draw(t, "input")
		plan := ResolveBase(in)

		if plan.Reason == "" {
			t.Fatalf("plan %+v has no reason", plan)
		}
		upgrade := (len(in.Run.Stages) == 0 || in.Run.HasStage(v1alpha1.StageUpgrade)) && in.Recipe.ExpectedNotApplicable == nil
		switch plan.Kind {
		case v1alpha1.BaseNone:
			if plan.Version != "" || plan.Ref != "" || plan.Commit != "" {
				t.Fatalf("none plan carries a base: %+v", plan)
			}
		case v1alpha1.BaseVersion:
			if plan.Version == "" || plan.Commit == "" {
				t.Fatalf("version plan without version or commit: %+v", plan)
			}
		case v1alpha1.BaseRef:
			if plan.Ref == "" || plan.Commit == "" {
				t.Fatalf("ref plan without ref or commit: %+v", plan)
			}
		default:
			t.Fatalf("plan kind %q is none of version, ref, none", plan.Kind)
		}

		if !upgrade && plan.Kind != v1alpha1.BaseNone {
			t.Fatalf("upgrade not wanted but base %+v", plan)
		}
		if upgrade && in.Run.UpgradeBase != "" {
			if plan.Ref != in.Run.UpgradeBase || plan.Commit != in.UpgradeBaseCommit {
				t.Fatalf("explicit base %q@%s lost to %+v", in.Run.UpgradeBase, in.UpgradeBaseCommit, plan)
			}
		}
		if in.Run.UpgradeBase == "" && plan.Kind != v1alpha1.BaseNone {
			if plan.Commit == in.HeadCommit {
				t.Fatalf("resolved base is the head commit %s: %+v", in.HeadCommit, plan)
			}
			if plan.Kind == v1alpha1.BaseVersion && in.HeadVersion != "" && recipe.CompareVersions(plan.Version, in.HeadVersion) >= 0 {
				t.Fatalf("resolved version base %s is not older than head %s", plan.Version, in.HeadVersion)
			}
		}
		if in.Run.UpgradeBase == "" && upgrade && in.Canonical != nil && plan.Kind == v1alpha1.BaseRef && strings.Contains(plan.Reason, "(canonical)") {
			t.Fatalf("canonical reason on a ref base: %+v", plan)
		}

		d := PreviousFor(plan, in.Recipe.Previous)
		if plan.Previous != d.Message {
			t.Fatalf("plan.Previous %q, decision %q", plan.Previous, d.Message)
		}
		wantApplies := in.Recipe.Previous != nil && plan.Kind == v1alpha1.BaseVersion && plan.Version == in.Recipe.Previous.Version
		if d.Applies != wantApplies {
			t.Fatalf("previous applies = %v, want %v for %+v", d.Applies, wantApplies, plan)
		}
		if d.Stale != (in.Recipe.Previous != nil && !wantApplies && plan.Kind != v1alpha1.BaseNone) {
			t.Fatalf("previous stale = %v for %+v and previous %+v", d.Stale, plan, in.Recipe.Previous)
		}
	})
}
