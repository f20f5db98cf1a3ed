package reconcile

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy/fake"
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

	tr := e.reconcileDone(e.rec, "demo-pr1", steps)

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
	state, err := e.deployer.Observe(context.Background(), tr.Status.Stack)
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

// A phase whose services were changed behind swarmrun's back between a crash and the restart
// is not rolled out again: the restart goes on looking at the recorded deploy, and the
// verification of the head's images fails the run.
func TestOutsideChangeAfterCrashFailsVerification(t *testing.T) {
	e := newFakeEnv(t)
	url, _ := standardRepo(t, "main")
	e.apply(newRecipe("demo", url))
	tr := newTestRun("demo-twice", "demo", "")
	tr.Spec.UpgradeBase = "0.1.0+1"
	e.apply(tr)

	ctx, stop := e.crashAt("demo-twice", func(tr *v1alpha1.TestRun) bool {
		return recorded(roleHead)(tr) && !conditionTrue(v1alpha1.ConditionHeadReady)(tr)
	})
	_ = e.untilCrash(ctx, e.rec, "demo-twice")
	if !stop() {
		t.Fatalf("never reached the head's wait: %s", e.describe("demo-twice"))
	}
	// Behind the controller's back: the head's app goes back to the base's image.
	app := e.get("demo-twice").Status.Stack + "_app"
	svc, _, err := e.engine.ServiceInspectWithRaw(t.Context(), app, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := svc.Spec
	cs := *spec.TaskTemplate.ContainerSpec
	cs.Image = probe1
	spec.TaskTemplate.ContainerSpec = &cs
	if _, err := e.engine.ServiceUpdate(t.Context(), svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	got := e.reconcileDone(e.reconciler(), "demo-twice", steps)
	if c := condition(got, v1alpha1.ConditionSucceeded); c.Status != v1alpha1.ConditionFalse || c.Reason != v1alpha1.ReasonVerifyFailed {
		t.Fatalf("Succeeded = %s %s: %s", c.Status, c.Reason, c.Message)
	}
	if n := e.engine.Calls("ServiceUpdate"); n != 2 {
		t.Errorf("ServiceUpdate called %d times, want 2 (the head's apply and the outside change)", n)
	}
	var images *v1alpha1.CheckResult
	for i, c := range got.Status.Tiers[string(v1alpha1.StageUpgrade)].Checks {
		if c.Name == "verify: head images" {
			images = &got.Status.Tiers[string(v1alpha1.StageUpgrade)].Checks[i]
		}
	}
	if images == nil || images.Result != v1alpha1.ResultFailed {
		t.Errorf("head images = %+v, want failed", images)
	}
}

// A deploy looked at after a crash gets what is left of its timeout, counted from the
// phase's recorded apply on the injected clock, not a fresh bound; and once the bound has
// passed, a last look that the engine never answers cannot hold the step.
func TestResumedWaitKeepsItsDeployTimeout(t *testing.T) {
	e := newFakeEnv(t)
	// The deployer stamps the record on the wall clock: the reconciler's starts there too.
	e.clock = fake.NewClock(time.Now())
	e.rec = e.reconciler()
	url, _ := standardRepo(t, "main")
	rc := newRecipe("demo", url)
	rc.Spec.Timeouts.Deploy = &v1alpha1.Duration{Duration: 10 * time.Minute}
	e.apply(rc)
	tr := newTestRun("demo-bound", "demo", "")
	tr.Spec.UpgradeBase = "0.1.0+1"
	tr.Spec.Timeout = &v1alpha1.Duration{Duration: time.Hour}
	tr.Spec.Teardown = v1alpha1.TeardownNever // a removal would wait on the task listing too
	e.apply(tr)

	ctx, stop := e.crashAt("demo-bound", func(tr *v1alpha1.TestRun) bool {
		return recorded(roleHead)(tr) && !conditionTrue(v1alpha1.ConditionHeadReady)(tr)
	})
	_ = e.untilCrash(ctx, e.rec, "demo-bound")
	if !stop() {
		t.Fatalf("never reached the head's wait: %s", e.describe("demo-bound"))
	}
	e.clock.Advance(11 * time.Minute) // the head's deploy timeout is spent, the run's is not

	// From now on the swarm never answers a task listing: only the bound ends the wait.
	e.engine.SetHook("TaskList", func(ctx context.Context, _ fake.Call) error {
		<-ctx.Done()
		return ctx.Err()
	})
	defer e.engine.SetHook("TaskList", nil)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	begin := time.Now()
	_, _ = e.reconciler().Reconcile(ctx, controller.Request{Kind: v1alpha1.KindTestRun, Name: "demo-bound"})
	if took := time.Since(begin); took > 10*time.Second {
		t.Fatalf("the step after the bound took %s", took)
	}
	got := e.get("demo-bound")
	if c := condition(got, v1alpha1.ConditionSucceeded); c.Status != v1alpha1.ConditionFalse || c.Reason != v1alpha1.ReasonConvergenceTimeout {
		t.Fatalf("Succeeded = %s %s: %s", c.Status, c.Reason, c.Message)
	}
}
