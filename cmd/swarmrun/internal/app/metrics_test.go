package app_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/app"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
	"github.com/swarmrun/swarmrun/internal/metrics"
	"github.com/swarmrun/swarmrun/internal/testkit"
	"github.com/swarmrun/swarmrun/warm"
)

func sample(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) (value, sum float64) {
	t.Helper()
	value, sum, _ = testkit.Sample(t, reg, name, labels)
	return value, sum
}

// After the controllers ran a TestRun (base, head, prune) and garbage collection removed an
// orphaned stack, the registry serve exposes at /metrics holds controller-runtime's
// families for each controller and swarmrun's own outcomes.
func TestMetricsAfterARun(t *testing.T) {
	f := fake.New(fake.Options{Images: []string{testkit.ProbeV1, testkit.ProbeV2}, FastRollouts: true})
	if err := invtest.Create(t.Context(), f, invtest.Stack{Name: "gone-0a1b2c", Services: 1, Image: testkit.ProbeV1,
		Labels: invtest.Owned(v1alpha1.LabelTestRun, "gone")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "swarmrun.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), logr.Discard()))
	url, commits := testkit.Standard(t, "main")
	rc := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo"}, Spec: v1alpha1.RecipeSpec{Source: v1alpha1.RecipeSource{URL: url}}}
	rc.Default()
	if _, err := st.Apply(ctx, rc); err != nil {
		t.Fatal(err)
	}
	rc.Status.Canonical = &v1alpha1.Canonical{Version: "0.1.0+1", Commit: commits[0], Status: warm.CanonicalStatus}
	if err := st.UpdateStatus(ctx, rc); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	var removed atomic.Int64
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{Store: st, Engine: f, DataDir: dir, Warm: true, Metrics: reg, Observer: m,
			GC: &app.GCOptions{Interval: 20 * time.Millisecond, Policy: warm.Policy{Grace: time.Millisecond},
				Report: func(r *warm.Report) { removed.Add(int64(len(r.Removed))) }}})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controllers: %v", err)
		}
	}()
	// The target branch tip: the head drops sidekiq, which the base (the canonical) has.
	tr := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo-tip"}, Spec: v1alpha1.TestRunSpec{Recipe: "demo",
		Stages: []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}}}
	tr.Default()
	if _, err := st.Apply(ctx, tr); err != nil {
		t.Fatal(err)
	}
	var got v1alpha1.TestRun
	testkit.Eventually(t, 60*time.Second, 10*time.Millisecond, func() bool {
		if st.Get(ctx, tr.Name, &got) != nil {
			return false
		}
		c := apimeta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionSucceeded)
		// A run's outcome is counted right after its verdict is stored.
		finished, _ := sample(t, reg, "swarmrun_testruns_finished_total", nil)
		return c != nil && c.Status != v1alpha1.ConditionUnknown && removed.Load() > 0 && finished > 0
	}, "the run did not finish and count, or garbage collection removed nothing")
	if c := apimeta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionSucceeded); c.Status != v1alpha1.ConditionTrue {
		t.Fatalf("run ended %s %s: %s", c.Status, c.Reason, c.Message)
	}

	for _, controller := range []string{"testruns", "recipes"} {
		ctrl := map[string]string{"controller": controller}
		if n, _ := sample(t, reg, "controller_runtime_reconcile_total", ctrl); n == 0 {
			t.Errorf("controller_runtime_reconcile_total{controller=%q} = 0", controller)
		}
		if n, _ := sample(t, reg, "controller_runtime_reconcile_time_seconds", ctrl); n == 0 {
			t.Errorf("controller_runtime_reconcile_time_seconds{controller=%q} has no samples", controller)
		}
		if n, _ := sample(t, reg, "workqueue_adds_total", map[string]string{"name": controller}); n == 0 {
			t.Errorf("workqueue_adds_total{name=%q} = 0", controller)
		}
		if n, _ := sample(t, reg, "controller_runtime_max_concurrent_reconciles", ctrl); n != 2 {
			t.Errorf("controller_runtime_max_concurrent_reconciles{controller=%q} = %v, want the default 2", controller, n)
		}
	}
	// The run's steps take turns through Requeue.
	if n, _ := sample(t, reg, "controller_runtime_reconcile_total", map[string]string{"controller": "testruns", "result": "requeue"}); n == 0 {
		t.Error(`controller_runtime_reconcile_total{controller="testruns",result="requeue"} = 0`)
	}

	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"swarmrun_testruns_finished_total", map[string]string{"reason": v1alpha1.ReasonSucceeded}, 1},
		{"swarmrun_testrun_level", nil, 1},
		{"swarmrun_deploy_convergence_seconds", map[string]string{"role": "base"}, 1},
		{"swarmrun_deploy_convergence_seconds", map[string]string{"role": "head"}, 1},
		{"swarmrun_services_pruned_total", map[string]string{"role": "head"}, 1},
	} {
		if n, _ := sample(t, reg, tt.name, tt.labels); n != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, n, tt.want)
		}
	}
	if _, sum := sample(t, reg, "swarmrun_testrun_level", nil); sum != float64(got.Status.Level) {
		t.Errorf("swarmrun_testrun_level sums to %v, want the run's level %d", sum, got.Status.Level)
	}
	if n, _ := sample(t, reg, "swarmrun_gc_removed_total", map[string]string{"kind": warm.KindStack}); n < 1 {
		t.Errorf(`swarmrun_gc_removed_total{kind="stack"} = %v, want the orphaned stack at least`, n)
	}
}
