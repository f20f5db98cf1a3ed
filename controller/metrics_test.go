package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/swarmrun/swarmrun/internal/testkit"
)

// counterValue reads a counter or gauge without a registry.
func counterValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	switch {
	case out.Counter != nil:
		return out.Counter.GetValue()
	case out.Gauge != nil:
		return out.Gauge.GetValue()
	}
	t.Fatalf("metric is neither counter nor gauge: %v", &out)
	return 0
}

// gathered returns the value of the series name with the given labels in reg, and whether
// it exists. Histograms report their sample count.
func gathered(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	v, _, ok := testkit.Sample(t, reg, name, labels)
	return v, ok
}

func TestMetricsAreRegisteredWhileRunning(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec := newRecorder(func(_ context.Context, req Request, n int) (Result, error) {
		switch {
		case req.Name == "bad":
			return Result{}, Terminal(errors.New("invalid spec"))
		case req.Name == "flaky" && n == 1:
			return Result{}, errors.New("engine busy")
		}
		return Result{}, nil
	})
	c := New(rec, Options{Name: "testruns", Workers: 3, Metrics: reg, MinBackoff: time.Millisecond})
	c.Enqueue(key("good"))
	c.Enqueue(key("bad"))
	c.Enqueue(key("flaky"))
	stop := start(t, c)
	ctrl := map[string]string{"controller": "testruns"}
	queue := map[string]string{"controller": "testruns", "name": "testruns"}
	// The duration is observed last, once a reconcile has left its worker; the work duration
	// once the queue has its key back.
	eventually(t, "every reconcile to be counted", func() bool {
		n, _ := gathered(t, reg, "controller_runtime_reconcile_time_seconds", ctrl)
		w, _ := gathered(t, reg, "workqueue_work_duration_seconds", queue)
		return n == 4 && w == 4
	})
	result := func(r string) map[string]string { return map[string]string{"controller": "testruns", "result": r} }
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"controller_runtime_reconcile_total", result("success"), 2},
		{"controller_runtime_reconcile_total", result("error"), 2},
		{"controller_runtime_reconcile_total", result("requeue"), 0},
		{"controller_runtime_reconcile_total", result("requeue_after"), 0},
		{"controller_runtime_reconcile_errors_total", ctrl, 2},
		{"controller_runtime_terminal_reconcile_errors_total", ctrl, 1},
		{"controller_runtime_reconcile_panics_total", ctrl, 0},
		{"controller_runtime_reconcile_time_seconds", ctrl, 4},
		{"controller_runtime_max_concurrent_reconciles", ctrl, 3},
		{"controller_runtime_active_workers", ctrl, 0},
		{"workqueue_depth", queue, 0},
		{"workqueue_adds_total", queue, 4},
		{"workqueue_retries_total", queue, 1},
		{"workqueue_queue_duration_seconds", queue, 4},
		{"workqueue_work_duration_seconds", queue, 4},
		{"workqueue_unfinished_work_seconds", queue, 0},
		{"workqueue_longest_running_processor_seconds", queue, 0},
	}
	for _, ch := range checks {
		got, ok := gathered(t, reg, ch.name, ch.labels)
		if !ok || got != ch.want {
			t.Errorf("%s%v = %v (present %v), want %v", ch.name, ch.labels, got, ok, ch.want)
		}
	}

	// A second controller of the same name on the same registry is a wiring mistake.
	if err := New(rec, Options{Name: "testruns", Metrics: reg}).Run(t.Context()); err == nil {
		t.Error("second controller named testruns: Run succeeded, want a registration error")
	}
	// Another name may share the registry.
	other := New(rec, Options{Name: "recipes", Metrics: reg})
	stopOther := start(t, other)
	eventually(t, "the recipes controller's metrics", func() bool {
		_, ok := gathered(t, reg, "workqueue_depth", map[string]string{"controller": "recipes"})
		return ok
	})
	if err := stopOther(); err != nil {
		t.Fatal(err)
	}

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, ok := gathered(t, reg, "controller_runtime_active_workers", ctrl); ok {
		t.Error("metrics still registered after Run returned")
	}
	// Once stopped, the name is free again (the one-shot run command starts a fresh one).
	again := New(rec, Options{Name: "testruns", Metrics: reg})
	if err := start(t, again)(); err != nil {
		t.Errorf("restart under the same name: %v", err)
	}
}

// The queue's depth counts keys ready for a worker while every worker is busy.
func TestWorkqueueDepthCountsWaitingKeys(t *testing.T) {
	reg := prometheus.NewRegistry()
	release := make(chan struct{})
	rec := blocking(release)
	c := New(rec, Options{Name: "slow", Workers: 1, Metrics: reg})
	for _, n := range []string{"a", "b", "c"} {
		c.Enqueue(key(n))
	}
	stop := start(t, c)
	queue := map[string]string{"controller": "slow", "name": "slow"}
	eventually(t, "one key in a worker, two waiting", func() bool {
		d, _ := gathered(t, reg, "workqueue_depth", queue)
		a, _ := gathered(t, reg, "controller_runtime_active_workers", map[string]string{"controller": "slow"})
		return d == 2 && a == 1
	})
	close(release)
	eventually(t, "the queue to drain", func() bool {
		d, _ := gathered(t, reg, "workqueue_depth", queue)
		return d == 0 && rec.returned() == 3
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// Every reconcile ends in one summary line: errors at V(0), the rest at V(1).
func TestEachReconcileLogsOneSummaryLine(t *testing.T) {
	for _, verbosity := range []int{0, 1} {
		t.Run(fmt.Sprintf("V%d", verbosity), func(t *testing.T) {
			var (
				mu    sync.Mutex
				lines []string
			)
			log := funcr.New(func(_, args string) {
				mu.Lock()
				defer mu.Unlock()
				lines = append(lines, args)
			}, funcr.Options{Verbosity: verbosity})
			rec := newRecorder(func(_ context.Context, req Request, _ int) (Result, error) {
				switch req.Name {
				case "bad":
					return Result{}, Terminal(errors.New("invalid spec"))
				case "later":
					return Result{RequeueAfter: time.Hour}, nil
				}
				return Result{}, nil
			})
			c := New(rec, Options{Name: "testruns"})
			for _, n := range []string{"good", "bad", "later"} {
				c.Enqueue(key(n))
			}
			ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), log))
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx) }()
			eventually(t, "three reconciles", func() bool { return rec.returned() == 3 })
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			summaries := map[string]string{}
			for _, l := range lines {
				if !strings.Contains(l, `"msg"="reconcile done"`) {
					continue
				}
				for _, n := range []string{"good", "bad", "later"} {
					if strings.Contains(l, `"name"="`+n+`"`) {
						if summaries[n] != "" {
							t.Errorf("two summary lines for %s:\n%s\n%s", n, summaries[n], l)
						}
						summaries[n] = l
					}
				}
			}
			want := map[string][]string{
				"bad": {`"controller"="testruns"`, `"kind"="TestRun"`, `"result"="error"`, `"retry"=false`, `"duration"=`,
					`"error"="invalid spec"`},
			}
			if verbosity > 0 {
				want["good"] = []string{`"controller"="testruns"`, `"result"="success"`, `"duration"=`}
				want["later"] = []string{`"result"="requeue_after"`, `"requeueAfter"="1h0m0s"`}
			}
			for _, n := range []string{"good", "bad", "later"} {
				line, ok := summaries[n]
				if _, wanted := want[n]; !wanted {
					if ok {
						t.Errorf("summary of %s logged at V(0): %s", n, line)
					}
					continue
				}
				for _, w := range want[n] {
					if !strings.Contains(line, w) {
						t.Errorf("summary of %s lacks %s: %q", n, w, line)
					}
				}
			}
		})
	}
}
