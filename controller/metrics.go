package controller

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of one reconcile, the values of the result label.
const (
	resultSuccess      = "success"
	resultRequeue      = "requeue"
	resultRequeueAfter = "requeue_after"
	resultError        = "error"
	resultTerminal     = "terminal_error"
)

// metrics are one controller's collectors. Every series carries the controller's name as a
// constant label, so that several controllers (TestRun, Recipe, GC) share one registry.
type metrics struct {
	total    *prometheus.CounterVec
	errors   prometheus.Counter
	panics   prometheus.Counter
	duration prometheus.Histogram
	active   prometheus.Gauge
	depth    prometheus.GaugeFunc
}

// newMetrics builds the collectors; depth reports the number of keys ready for a worker
// (keys waiting out a backoff or a RequeueAfter are not counted).
func newMetrics(name string, depth func() int) *metrics {
	labels := prometheus.Labels{"controller": name}
	opts := func(metric, help string) prometheus.Opts {
		return prometheus.Opts{
			Namespace: "swarmrun", Subsystem: "controller", Name: metric,
			Help: help, ConstLabels: labels,
		}
	}
	return &metrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts(opts("reconcile_total",
			"Reconciles by outcome: success, requeue_after, error, terminal_error.")),
			[]string{"result"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts(opts("reconcile_errors_total",
			"Reconciles that returned an error or panicked, terminal or not."))),
		panics: prometheus.NewCounter(prometheus.CounterOpts(opts("reconcile_panics_total",
			"Reconciles that panicked."))),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "swarmrun", Subsystem: "controller", Name: "reconcile_duration_seconds",
			Help: "Time spent in one reconcile.", ConstLabels: labels,
			// From a no-op reconcile to one that waits out a slow deploy.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts(opts("active_workers",
			"Workers currently inside a reconcile."))),
		depth: prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("queue_depth",
			"Keys ready and waiting for a worker.")), func() float64 { return float64(depth()) }),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.total, m.errors, m.panics, m.duration, m.active, m.depth}
}

// register adds the collectors to reg, all or none.
func (m *metrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	var done []prometheus.Collector
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			for _, d := range done {
				reg.Unregister(d)
			}
			var dup prometheus.AlreadyRegisteredError
			if errors.As(err, &dup) {
				return fmt.Errorf("register metrics: another controller uses this name: %w", err)
			}
			return fmt.Errorf("register metrics: %w", err)
		}
		done = append(done, c)
	}
	return nil
}

// unregister removes the collectors from reg, so that a controller of the same name can run
// after this one has stopped (the one-shot run command, tests).
func (m *metrics) unregister(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	for _, c := range m.collectors() {
		reg.Unregister(c)
	}
}

// observe counts one reconcile's outcome.
func (m *metrics) observe(result string, seconds float64) {
	m.total.WithLabelValues(result).Inc()
	m.duration.Observe(seconds)
	if result == resultError || result == resultTerminal {
		m.errors.Inc()
	}
}
