package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/swarmrun/swarmrun/internal/metrics"
)

func TestMetricsCountWhatTheyAreTold(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.RunFinished("Succeeded", 5)
	m.RunFinished("Succeeded", 3)
	m.RunFinished("CheckFailed", 1)
	m.DeployConverged(metrics.RoleHead, 1500*time.Millisecond)
	m.ServicesPruned(metrics.RoleHead, 2)
	m.ServicesPruned(metrics.RoleWarm, 0)
	m.Promotion(true)
	m.Promotion(false)
	m.Promotion(false)
	m.Collected("stack", false)
	m.Collected("secret", true)
	m.WebhookDelivered("push", "accepted")

	want := `
# HELP swarmrun_testruns_finished_total TestRuns that got their verdict, by the reason of their Succeeded condition.
# TYPE swarmrun_testruns_finished_total counter
swarmrun_testruns_finished_total{reason="CheckFailed"} 1
swarmrun_testruns_finished_total{reason="Succeeded"} 2
# HELP swarmrun_services_pruned_total Services removed because the deploy no longer declares them, by role: head (a run) or warm.
# TYPE swarmrun_services_pruned_total counter
swarmrun_services_pruned_total{role="head"} 2
# HELP swarmrun_promotions_total Promotion decisions of finished runs of warm recipes: promoted or refused.
# TYPE swarmrun_promotions_total counter
swarmrun_promotions_total{result="promoted"} 1
swarmrun_promotions_total{result="refused"} 2
# HELP swarmrun_gc_removed_total Stale stacks and objects removed by garbage collection, by kind.
# TYPE swarmrun_gc_removed_total counter
swarmrun_gc_removed_total{kind="stack"} 1
# HELP swarmrun_gc_failures_total Garbage collection removals that failed (tried again at the next pass), by kind.
# TYPE swarmrun_gc_failures_total counter
swarmrun_gc_failures_total{kind="secret"} 1
# HELP swarmrun_webhook_deliveries_total Forge webhook deliveries, by event and result.
# TYPE swarmrun_webhook_deliveries_total counter
swarmrun_webhook_deliveries_total{event="push",result="accepted"} 1
`
	names := []string{"swarmrun_testruns_finished_total", "swarmrun_services_pruned_total", "swarmrun_promotions_total",
		"swarmrun_gc_removed_total", "swarmrun_gc_failures_total", "swarmrun_webhook_deliveries_total"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// The level histogram: 1, 3 and 5, so at most 3 twice, at most 0 never.
	levels := `
# HELP swarmrun_testrun_level Levels (0..5) of finished TestRuns.
# TYPE swarmrun_testrun_level histogram
swarmrun_testrun_level_bucket{le="0"} 0
swarmrun_testrun_level_bucket{le="1"} 1
swarmrun_testrun_level_bucket{le="2"} 1
swarmrun_testrun_level_bucket{le="3"} 2
swarmrun_testrun_level_bucket{le="4"} 2
swarmrun_testrun_level_bucket{le="5"} 3
swarmrun_testrun_level_bucket{le="+Inf"} 3
swarmrun_testrun_level_sum 9
swarmrun_testrun_level_count 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(levels), "swarmrun_testrun_level"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "swarmrun_deploy_convergence_seconds"); n != 3 {
		t.Errorf("convergence series = %d, want one per role (base, head, warm)", n)
	}

	// A second set on the same registry is a wiring mistake, and leaves the first in place.
	if _, err := metrics.New(reg); err == nil {
		t.Error("second New on one registry succeeded")
	}
	if n := testutil.CollectAndCount(reg, "swarmrun_testruns_finished_total"); n != 2 {
		t.Errorf("after the failed second New, finished series = %d, want 2", n)
	}
}

// Code run without metrics holds a nil *Metrics: every method is a no-op.
func TestNilMetricsDoNothing(t *testing.T) {
	var m *metrics.Metrics
	m.RunFinished("Succeeded", 5)
	m.DeployConverged(metrics.RoleBase, time.Second)
	m.ServicesPruned(metrics.RoleHead, 1)
	m.Promotion(true)
	m.Collected("stack", false)
	m.WebhookDelivered("push", "accepted")
}

func TestNewRegistryHasRuntimeCollectors(t *testing.T) {
	mfs, err := metrics.NewRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
	}
	for _, want := range []string{"go_goroutines", "process_open_fds"} {
		if !have[want] {
			t.Errorf("registry lacks %s", want)
		}
	}
}
