package reconcile

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

func TestLifecycleOnFake(t *testing.T) {
	e := newFakeEnv(t)
	url, commits := standardRepo(t, "main")
	rc := newRecipe("demo", url)
	e.apply(rc)
	rc.Status.Canonical = &v1alpha1.Canonical{Version: "0.1.0+1", Commit: commits[0], Status: "green"}
	if err := e.store.UpdateStatus(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
	e.apply(newTestRun("demo-pr1", "demo", ""))

	tr := e.reconcileDone(e.rec, "demo-pr1", 3)

	if c := condition(tr, v1alpha1.ConditionSucceeded); c.Status != v1alpha1.ConditionTrue {
		t.Fatalf("Succeeded = %s %s: %s\n%s", c.Status, c.Reason, c.Message, e.describe("demo-pr1"))
	}
	if b := tr.Status.Base; b.Kind != v1alpha1.BaseVersion || b.Version != "0.1.0+1" || b.Commit != commits[0] {
		t.Errorf("base = %+v", b)
	}
	if h := tr.Status.Head; h.Commit != commits[1] || h.ChaosVersion != commits[1][:8] {
		t.Errorf("head = %+v", h)
	}
	if want := []string{tr.Status.Stack + "_sidekiq"}; !slices.Equal(tr.Status.Pruned, want) {
		t.Errorf("pruned = %v, want %v", tr.Status.Pruned, want)
	}
	if got := len(tr.Status.Deploys); got != 2 {
		t.Fatalf("deploys = %d, want 2", got)
	}
	if got := tr.Status.Tiers["upgrade"].Result; got != v1alpha1.ResultPassed {
		t.Errorf("upgrade tier = %s", got)
	}
	if tr.Status.Level < 2 {
		t.Errorf("level = %d, want at least 2", tr.Status.Level)
	}
	if !tr.HasFinalizer(v1alpha1.FinalizerTeardown) {
		t.Errorf("no finalizer")
	}
	// Teardown (Always) left nothing of the stack.
	state, err := e.rec.o.Deployer.Observe(context.Background(), tr.Status.Stack)
	if err != nil {
		t.Fatal(err)
	}
	if state.Exists() {
		t.Errorf("stack left after teardown: %+v", state)
	}
	for _, d := range tr.Status.Deploys {
		for _, img := range d.Images {
			if strings.Contains(img.Image, "does-not-exist") {
				t.Errorf("unexpected image %v", img)
			}
		}
	}
}
