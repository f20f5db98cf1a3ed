package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/app"
	"github.com/swarmrun/swarmrun/internal/testkit"
)

// With one worker, a run whose base takes long to converge holds no worker while it does:
// another TestRun is taken up within a second of its creation, and the slow run's deletion
// goes through within a second too.
func TestOneWorkerIsNeverHeldByARun(t *testing.T) {
	f, dir, st, url, _ := acceptance(t)
	rc := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo"}, Spec: v1alpha1.RecipeSpec{Source: v1alpha1.RecipeSource{URL: url}}}
	rc.Default()
	run := func(name string) *v1alpha1.TestRun {
		tr := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: name}, Spec: v1alpha1.TestRunSpec{Recipe: "demo", UpgradeBase: "0.1.0+1",
			Stages: []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}}}
		tr.Default()
		return tr
	}
	ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), logr.Discard()))
	done := make(chan error, 1)
	go func() {
		// Every deploy stabilises for a minute: the slow base.
		done <- app.Run(ctx, app.Options{Store: st, Engine: f, DataDir: dir, Flags: app.Flags{Workers: 1}, Stable: time.Minute})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controllers: %v", err)
		}
	}()
	for _, o := range []v1alpha1.Object{rc, run("slow")} {
		if _, err := st.Apply(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	get := func(name string) *v1alpha1.TestRun {
		tr := &v1alpha1.TestRun{}
		if err := st.Get(ctx, name, tr); err != nil {
			return nil
		}
		return tr
	}
	testkit.Eventually(t, 30*time.Second, 5*time.Millisecond, func() bool {
		tr := get("slow")
		return tr != nil && len(tr.Status.Deploys) == 1 && tr.Status.Deploys[0].Convergence != nil
	}, "the slow run's base was never applied and looked at")

	// The base stabilises for a minute; a second run is taken up at once.
	start := time.Now()
	if _, err := st.Apply(ctx, run("second")); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, time.Millisecond, func() bool {
		tr := get("second")
		return tr != nil && tr.Status.StartedAt != nil
	}, "the second run was never taken up")
	took := time.Since(start)
	t.Logf("the second run was taken up %s after its creation", took)
	if took > time.Second {
		t.Errorf("the second run was taken up %s after its creation, want within 1s", took)
	}
	if c := apimeta.FindStatusCondition(get("slow").Status.Conditions, v1alpha1.ConditionBaseReady); c != nil {
		t.Fatalf("the slow base is ready already (%s): the test proves nothing", c.Reason)
	}

	// Deleting the slow run is its next step: its stack goes and the object with it.
	start = time.Now()
	if _, err := st.Delete(ctx, v1alpha1.KindTestRun, "slow"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, time.Millisecond, func() bool { return get("slow") == nil }, "the slow run was never deleted")
	took = time.Since(start)
	t.Logf("the slow run, its stack torn down, was gone %s after the deletion", took)
	if took > time.Second {
		t.Errorf("the slow run was deleted %s after the request, want within 1s", took)
	}
}
