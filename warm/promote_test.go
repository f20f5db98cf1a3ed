package warm_test

import (
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/warm"
)

var now = time.Date(2026, 6, 17, 12, 0, 0, 0, time.UTC)

const (
	c070 = "7070707070707070707070707070707070707070"
	c081 = "8181818181818181818181818181818181818181"
	c090 = "9090909090909090909090909090909090909090"
)

var published = []recipe.Version{{Tag: "0.8.1+3.5.0", Commit: c081}, {Tag: "0.7.0+3.3.1", Commit: c070}}

func enrolled(name string) *v1alpha1.Recipe {
	return &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: name}, Spec: v1alpha1.RecipeSpec{Warm: true}}
}

// greenRun is a finished, green, cold run of recipe at the tag head.
func greenRun(name, recipeName, ref, commit, version string) *v1alpha1.TestRun {
	return &v1alpha1.TestRun{
		ObjectMeta: v1alpha1.ObjectMeta{Name: name},
		Spec:       v1alpha1.TestRunSpec{Recipe: recipeName, Head: ref},
		Status: v1alpha1.TestRunStatus{
			Conditions: []v1alpha1.Condition{{Type: v1alpha1.ConditionSucceeded, Status: v1alpha1.ConditionTrue, Reason: v1alpha1.ReasonSucceeded}},
			Stack:      name + "-1a2b3c",
			Base:       &v1alpha1.BasePlan{Kind: v1alpha1.BaseNone, Reason: "upgrade not in stages"},
			Head:       &v1alpha1.HeadStatus{Ref: ref, Commit: commit, Version: version},
			Deploys:    []v1alpha1.DeployRecord{{Role: v1alpha1.RoleHead, Commit: commit}},
		},
	}
}

func TestDecide(t *testing.T) {
	type tc struct {
		name   string
		run    func() *v1alpha1.TestRun
		recipe func() *v1alpha1.Recipe
		pub    []recipe.Version
		want   string // a part of the reason; empty means it promotes
	}
	tag := func() *v1alpha1.TestRun { return greenRun("kc-1", "keycloak", "0.8.1+3.5.0", c081, "0.8.1+3.5.0") }
	rc := func() *v1alpha1.Recipe { return enrolled("keycloak") }
	with := func(f func(*v1alpha1.TestRun)) func() *v1alpha1.TestRun {
		return func() *v1alpha1.TestRun { r := tag(); f(r); return r }
	}
	withRecipe := func(f func(*v1alpha1.Recipe)) func() *v1alpha1.Recipe {
		return func() *v1alpha1.Recipe { r := rc(); f(r); return r }
	}
	cases := []tc{
		{name: "green cold newest tag promotes", run: tag, recipe: rc},
		{name: "refs/tags form of the tag promotes", run: with(func(r *v1alpha1.TestRun) { r.Status.Head.Ref = "refs/tags/0.8.1+3.5.0" }), recipe: rc},
		{name: "red run", run: with(func(r *v1alpha1.TestRun) {
			r.Status.Conditions[0].Status, r.Status.Conditions[0].Reason = v1alpha1.ConditionFalse, v1alpha1.ReasonCheckFailed
		}), recipe: rc, want: "is red (CheckFailed)"},
		{name: "running run", run: with(func(r *v1alpha1.TestRun) { r.Status.Conditions[0].Status = v1alpha1.ConditionUnknown }),
			recipe: rc, want: "has not finished"},
		{name: "no Succeeded condition", run: with(func(r *v1alpha1.TestRun) { r.Status.Conditions = nil }), recipe: rc, want: "has not finished"},
		{name: "head is a branch whose tip is the tag", run: with(func(r *v1alpha1.TestRun) { r.Status.Head.Ref = "main" }),
			recipe: rc, want: "head main is a branch or commit"},
		{name: "head is a commit", run: with(func(r *v1alpha1.TestRun) { r.Status.Head.Ref, r.Status.Head.Version = c090, "" }),
			recipe: rc, want: "is a branch or commit, not a release tag"},
		{name: "head is not a release tag", run: with(func(r *v1alpha1.TestRun) { r.Status.Head.Ref, r.Status.Head.Version = "v1", "v1" }),
			recipe: rc, want: "is a branch or commit"},
		{name: "older tag", run: func() *v1alpha1.TestRun { return greenRun("kc-0", "keycloak", "0.7.0+3.3.1", c070, "0.7.0+3.3.1") },
			recipe: rc, want: "older than the newest published version 0.8.1+3.5.0"},
		{name: "tag not published", run: func() *v1alpha1.TestRun { return greenRun("kc-9", "keycloak", "0.9.0+3.6.0", c090, "0.9.0+3.6.0") },
			recipe: rc, want: "not a published version"},
		{name: "tag moved since the run", run: tag, recipe: rc, pub: []recipe.Version{{Tag: "0.8.1+3.5.0", Commit: c090}},
			want: "now points at 90909090"},
		{name: "recipe not enrolled", run: tag, recipe: withRecipe(func(r *v1alpha1.Recipe) { r.Spec.Warm = false }),
			want: "not enrolled as warm"},
		{name: "recipe missing", run: tag, recipe: func() *v1alpha1.Recipe { return nil }, want: `recipe "keycloak" does not exist`},
		{name: "another recipe", run: tag, recipe: func() *v1alpha1.Recipe { return enrolled("discourse") }, want: `not "discourse"`},
		{name: "warm-based run is not cold", run: with(func(r *v1alpha1.TestRun) { r.Status.Stack = "warm-keycloak" }),
			recipe: rc, want: "was not cold"},
		{name: "a run from the warm stack's data is not cold", run: with(func(r *v1alpha1.TestRun) {
			r.Status.Base = &v1alpha1.BasePlan{Kind: v1alpha1.BaseWarm, Version: "0.7.0+3.3.1", Commit: c070}
		}), recipe: rc, want: "was not cold"},
		{name: "warm deploy role is not cold", run: with(func(r *v1alpha1.TestRun) {
			r.Status.Deploys = append(r.Status.Deploys, v1alpha1.DeployRecord{Role: v1alpha1.RoleWarm})
		}), recipe: rc, want: "was not cold"},
		{name: "unresolved head", run: with(func(r *v1alpha1.TestRun) { r.Status.Head = nil }), recipe: rc, want: "no resolved head"},
		{name: "already canonical", run: tag, recipe: withRecipe(func(r *v1alpha1.Recipe) {
			r.Status.Canonical = &v1alpha1.Canonical{Version: "0.8.1+3.5.0", Commit: c081, Run: "kc-0"}
		}), want: "already the canonical"},
		{name: "newer canonical", run: tag, recipe: withRecipe(func(r *v1alpha1.Recipe) {
			r.Status.Canonical = &v1alpha1.Canonical{Version: "0.9.0+3.6.0", Commit: c090}
		}), want: "canonical 0.9.0+3.6.0 of keycloak is newer"},
		{name: "older canonical is replaced", run: tag, recipe: withRecipe(func(r *v1alpha1.Recipe) {
			r.Status.Canonical = &v1alpha1.Canonical{Version: "0.7.0+3.3.1", Commit: c070}
		})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pub := c.pub
			if pub == nil {
				pub = published
			}
			run := c.run()
			d := warm.Decide(warm.PromoteInput{Run: run, Recipe: c.recipe(), Published: pub, Now: now})
			if c.want == "" {
				if !d.Promote || d.EventReason() != v1alpha1.ReasonPromoted {
					t.Fatalf("refused: %s", d.Reason)
				}
				want := v1alpha1.Canonical{Version: "0.8.1+3.5.0", Commit: c081, Status: warm.CanonicalStatus, Run: run.Name,
					PromotedAt: v1alpha1.Time{Time: now}}
				if d.Canonical != want {
					t.Errorf("canonical = %+v, want %+v", d.Canonical, want)
				}
				return
			}
			if d.Promote || d.EventReason() != v1alpha1.ReasonNotPromoted {
				t.Fatalf("promoted, want a refusal containing %q", c.want)
			}
			if !strings.Contains(d.Reason, c.want) {
				t.Errorf("reason %q does not say %q", d.Reason, c.want)
			}
		})
	}
}
