package controller

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
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
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func TestMetricsAreRegisteredWhileRunning(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec := newRecorder(func(_ context.Context, req Request, _ int) (Result, error) {
		if req.Name == "bad" {
			return Result{}, Terminal(errors.New("invalid spec"))
		}
		return Result{}, nil
	})
	c := New(rec, Options{Name: "testruns", Metrics: reg})
	c.Enqueue(key("good"))
	c.Enqueue(key("bad"))
	stop := start(t, c)
	ctrl := map[string]string{"controller": "testruns"}
	// The duration is observed last, once a reconcile has left its worker.
	eventually(t, "both reconciles to be counted", func() bool {
		n, _ := gathered(t, reg, "swarmrun_controller_reconcile_duration_seconds", ctrl)
		return n == 2
	})
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"swarmrun_controller_reconcile_total", map[string]string{"controller": "testruns", "result": "success"}, 1},
		{"swarmrun_controller_reconcile_total", map[string]string{"controller": "testruns", "result": "terminal_error"}, 1},
		{"swarmrun_controller_reconcile_errors_total", ctrl, 1},
		{"swarmrun_controller_reconcile_panics_total", ctrl, 0},
		{"swarmrun_controller_reconcile_duration_seconds", ctrl, 2},
		{"swarmrun_controller_queue_depth", ctrl, 0},
		{"swarmrun_controller_active_workers", ctrl, 0},
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
		_, ok := gathered(t, reg, "swarmrun_controller_queue_depth", map[string]string{"controller": "recipes"})
		return ok
	})
	if err := stopOther(); err != nil {
		t.Fatal(err)
	}

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, ok := gathered(t, reg, "swarmrun_controller_queue_depth", ctrl); ok {
		t.Error("metrics still registered after Run returned")
	}
	// Once stopped, the name is free again (the one-shot run command starts a fresh one).
	again := New(rec, Options{Name: "testruns", Metrics: reg})
	if err := start(t, again)(); err != nil {
		t.Errorf("restart under the same name: %v", err)
	}
}
