package reconcile

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
)

// warmRepo has two release tags and an untagged tip past the newest.
func warmRepo(t *testing.T) (string, []string) {
	t.Helper()
	return recipeRepo(t, "main",
		repoVersion{Image: probe1, Version: "0.1.0+1", Sidekiq: true, Tag: "0.1.0+1"},
		repoVersion{Image: probe2, Version: "0.2.0+2", Tag: "0.2.0+2"},
		repoVersion{Image: probe2, Version: "0.2.1+2"},
	)
}

func (e *fakeEnv) recipe(name string) *v1alpha1.Recipe {
	e.t.Helper()
	rc := &v1alpha1.Recipe{}
	if err := e.store.Get(e.t.Context(), name, rc); err != nil {
		e.t.Fatal(err)
	}
	return rc
}

// events returns the events of an object with reason.
func (e *fakeEnv) events(kind, name, reason string) []v1alpha1.Event {
	e.t.Helper()
	evs, err := e.store.Events(e.t.Context(), kind, name)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []v1alpha1.Event
	for _, ev := range evs {
		if ev.Reason == reason {
			out = append(out, ev)
		}
	}
	return out
}

func TestPromotion(t *testing.T) {
	for _, tc := range []struct {
		name     string
		head     string
		notWarm  bool
		red      bool
		promoted bool
		why      string // in the Promoted condition's message and the events
	}{
		{name: "newest tag, green", head: "0.2.0+2", promoted: true, why: "green, cold and the newest published version"},
		{name: "older tag", head: "0.1.0+1", why: "older than the newest published version 0.2.0+2"},
		{name: "branch tip", head: "", why: "is a branch or commit, not a release tag"},
		{name: "red run", head: "0.2.0+2", red: true, why: "is red (CheckFailed): only a green run promotes"},
		{name: "recipe not warm", head: "0.2.0+2", notWarm: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEnv(t)
			url, commits := warmRepo(t)
			rc := newRecipe("wr", url)
			rc.Spec.Warm = !tc.notWarm
			rc.Spec.Checks.Install = []v1alpha1.Check{{Name: "home", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080}}}
			e.checks.fail["home"] = tc.red
			tr := newTestRun("wr-run", rc.Name, tc.head)
			tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall}
			e.apply(rc, tr)
			got := e.reconcileDone(e.rec, tr.Name, steps)

			c := condition(got, v1alpha1.ConditionPromoted)
			canonical := e.recipe(rc.Name).Status.Canonical
			if tc.notWarm {
				if c.Type != "" || canonical != nil {
					t.Errorf("a run of a recipe that is not warm: condition %+v, canonical %+v", c, canonical)
				}
				if evs := append(e.events(v1alpha1.KindRecipe, rc.Name, v1alpha1.ReasonNotPromoted),
					e.events(v1alpha1.KindRecipe, rc.Name, v1alpha1.ReasonPromoted)...); len(evs) != 0 {
					t.Errorf("events about promotion of a recipe that is not warm: %+v", evs)
				}
				return
			}
			reason, status := v1alpha1.ReasonNotPromoted, v1alpha1.ConditionFalse
			if tc.promoted {
				reason, status = v1alpha1.ReasonPromoted, v1alpha1.ConditionTrue
			}
			if c.Status != status || c.Reason != reason || !strings.Contains(c.Message, tc.why) {
				t.Errorf("Promoted = %s %s %q, want %s %s with %q", c.Status, c.Reason, c.Message, status, reason, tc.why)
			}
			for _, ref := range []struct{ kind, name string }{{v1alpha1.KindTestRun, tr.Name}, {v1alpha1.KindRecipe, rc.Name}} {
				evs := e.events(ref.kind, ref.name, reason)
				if len(evs) != 1 || !strings.Contains(evs[0].Message, tc.why) {
					t.Errorf("%s %s: %s events %+v, want one saying %q", ref.kind, ref.name, reason, evs, tc.why)
				}
			}
			switch {
			case tc.promoted && (canonical == nil || canonical.Version != "0.2.0+2" || canonical.Commit != commits[1] || canonical.Run != tr.Name):
				t.Errorf("canonical = %+v, want 0.2.0+2 at %s by %s", canonical, commits[1], tr.Name)
			case !tc.promoted && canonical != nil:
				t.Errorf("canonical written by a run that does not promote: %+v", canonical)
			}
		})
	}
}

// failVerdictOnce fails the first status write that stores a verdict, as a crash between
// the promoter's write of the canonical and the run's own write would.
type failVerdictOnce struct {
	Store
	failed bool
}

func (s *failVerdictOnce) UpdateStatus(ctx context.Context, obj v1alpha1.Object) error {
	if tr, ok := obj.(*v1alpha1.TestRun); ok && finished(tr) && !s.failed {
		s.failed = true
		return errors.New("store unavailable")
	}
	return s.Store.UpdateStatus(ctx, obj)
}

// A run promotes once: a crash between the canonical's write and the verdict's takes the
// canonical as the run's own; a finished run reconciled again (a restart) neither promotes
// again nor replaces a newer canonical.
func TestPromotionOnce(t *testing.T) {
	e := newFakeEnv(t)
	spy := &failVerdictOnce{}
	e.wrap = func(s Store) Store { spy.Store = s; return spy }
	e.rec = e.reconciler()
	url, commits := warmRepo(t)
	rc := newRecipe("wr", url)
	rc.Spec.Warm = true
	tr := newTestRun("wr-once", rc.Name, "0.2.0+2")
	tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall}
	e.apply(rc, tr)
	got := e.reconcileDone(e.rec, tr.Name, steps)
	if !spy.failed {
		t.Fatal("the verdict's write never failed: the test proves nothing")
	}
	if c := condition(got, v1alpha1.ConditionPromoted); c.Status != v1alpha1.ConditionTrue {
		t.Errorf("Promoted = %+v after the failed write", c)
	}
	first := e.recipe(rc.Name).Status.Canonical
	if first == nil || first.Commit != commits[1] {
		t.Fatalf("canonical = %+v", first)
	}
	if evs := e.events(v1alpha1.KindRecipe, rc.Name, v1alpha1.ReasonPromoted); len(evs) != 1 || evs[0].Count != 1 {
		t.Errorf("Promoted events on the recipe %+v, want one, once", evs)
	}

	// A newer canonical arrives; the finished run is reconciled again by a new controller.
	newer := e.recipe(rc.Name)
	newer.Status.Canonical = &v1alpha1.Canonical{Version: "0.3.0+3", Commit: "c0ffee", Status: "green", Run: "other"}
	if err := e.store.UpdateStatus(t.Context(), newer); err != nil {
		t.Fatal(err)
	}
	rec := e.reconciler()
	for range 2 {
		if _, err := rec.Reconcile(t.Context(), controller.Request{Kind: v1alpha1.KindTestRun, Name: tr.Name}); err != nil {
			t.Fatal(err)
		}
	}
	if c := e.recipe(rc.Name).Status.Canonical; c.Version != "0.3.0+3" {
		t.Errorf("canonical flipped back to %+v", c)
	}
	if evs := append(e.events(v1alpha1.KindRecipe, rc.Name, v1alpha1.ReasonPromoted),
		e.events(v1alpha1.KindRecipe, rc.Name, v1alpha1.ReasonNotPromoted)...); len(evs) != 1 || evs[0].Count != 1 {
		t.Errorf("promotion decided again after the verdict: %+v", evs)
	}
}
