package controller

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/util/workqueue"
)

// Outcomes of one reconcile, the values of controller_runtime_reconcile_total's result label,
// as controller-runtime has them: a terminal error is an error too (and is counted apart in
// controller_runtime_terminal_reconcile_errors_total).
const (
	resultSuccess      = "success"
	resultRequeue      = "requeue"
	resultRequeueAfter = "requeue_after"
	resultError        = "error"
)

// metrics are one controller's collectors, under the names controller-runtime gives them so
// that the dashboards and alerts written for Kubernetes controllers work unchanged:
//
//	controller_runtime_reconcile_total{controller,result}
//	controller_runtime_reconcile_errors_total{controller}
//	controller_runtime_terminal_reconcile_errors_total{controller}
//	controller_runtime_reconcile_panics_total{controller}
//	controller_runtime_reconcile_time_seconds{controller} (histogram)
//	controller_runtime_max_concurrent_reconciles{controller}
//	controller_runtime_active_workers{controller}
//	workqueue_*{name,controller} (see queueMetrics)
//
// Every series carries the controller's name as a constant label, so that several
// controllers (TestRun, Recipe) share one registry, each registering its own collectors
// while it runs.
type metrics struct {
	total    *prometheus.CounterVec
	errors   prometheus.Counter
	terminal prometheus.Counter
	panics   prometheus.Counter
	duration prometheus.Histogram
	workers  prometheus.Gauge
	active   prometheus.Gauge
	queue    *queueMetrics
}

// newMetrics builds the collectors of the controller called name with workers workers.
func newMetrics(name string, workers int) *metrics {
	labels := prometheus.Labels{"controller": name}
	opts := func(metric, help string) prometheus.Opts {
		return prometheus.Opts{Name: metric, Help: help, ConstLabels: labels}
	}
	m := &metrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts(opts("controller_runtime_reconcile_total",
			"Total number of reconciliations per controller, by result: success, requeue, requeue_after, error.")),
			[]string{"result"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts(opts("controller_runtime_reconcile_errors_total",
			"Total number of reconciliation errors per controller (terminal or not, panics included)."))),
		terminal: prometheus.NewCounter(prometheus.CounterOpts(opts("controller_runtime_terminal_reconcile_errors_total",
			"Total number of terminal reconciliation errors per controller: errors that are not retried."))),
		panics: prometheus.NewCounter(prometheus.CounterOpts(opts("controller_runtime_reconcile_panics_total",
			"Total number of reconciliation panics per controller."))),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "controller_runtime_reconcile_time_seconds", ConstLabels: labels,
			Help: "Length of time per reconciliation per controller.",
			// controller-runtime's buckets up to a minute, then the slow steps a reconcile
			// timeout still allows.
			Buckets: []float64{.005, .01, .025, .05, .1, .15, .2, .25, .3, .35, .4, .45, .5, .6, .7, .8, .9, 1,
				1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60, 120, 300, 600, 1800},
		}),
		workers: prometheus.NewGauge(prometheus.GaugeOpts(opts("controller_runtime_max_concurrent_reconciles",
			"Maximum number of concurrent reconciles per controller."))),
		active: prometheus.NewGauge(prometheus.GaugeOpts(opts("controller_runtime_active_workers",
			"Number of currently used workers per controller."))),
		queue: newQueueMetrics(name),
	}
	// Every result exists from the start, at zero, so that rate() over a result that has not
	// happened yet is 0 rather than absent.
	for _, r := range []string{resultSuccess, resultRequeue, resultRequeueAfter, resultError} {
		m.total.WithLabelValues(r)
	}
	m.workers.Set(float64(workers))
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return append([]prometheus.Collector{m.total, m.errors, m.terminal, m.panics, m.duration, m.workers, m.active},
		m.queue.collectors()...)
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

// observe counts one reconcile's outcome; terminal says an error is not retried.
func (m *metrics) observe(result string, terminal bool, seconds float64) {
	m.total.WithLabelValues(result).Inc()
	m.duration.Observe(seconds)
	if result == resultError {
		m.errors.Inc()
		if terminal {
			m.terminal.Inc()
		}
	}
}

// queueMetrics are the workqueue's collectors, under the names client-go's workqueue
// metrics have in controller-runtime (workqueue_depth, workqueue_adds_total,
// workqueue_queue_duration_seconds, workqueue_work_duration_seconds,
// workqueue_unfinished_work_seconds, workqueue_longest_running_processor_seconds,
// workqueue_retries_total), each labelled name and controller with the controller's name.
//
// queueMetrics is the queue's workqueue.MetricsProvider, given to the queue's config rather
// than set process-wide with workqueue.SetProvider: each controller brings its own, and
// nothing global is left behind. The queue asks for each metric once, when it is built.
type queueMetrics struct {
	depth, unfinished, longest prometheus.Gauge
	adds, retries              prometheus.Counter
	latency, work              prometheus.Histogram
}

var _ workqueue.MetricsProvider = (*queueMetrics)(nil)

func newQueueMetrics(name string) *queueMetrics {
	labels := prometheus.Labels{"name": name, "controller": name}
	opts := func(metric, help string) prometheus.Opts {
		return prometheus.Opts{Subsystem: "workqueue", Name: metric, Help: help, ConstLabels: labels}
	}
	// From 10ns to 10^3s, as controller-runtime's.
	buckets := prometheus.ExponentialBuckets(10e-9, 10, 12)
	return &queueMetrics{
		depth: prometheus.NewGauge(prometheus.GaugeOpts(opts("depth",
			"Current depth of workqueue: keys ready and waiting for a worker."))),
		adds: prometheus.NewCounter(prometheus.CounterOpts(opts("adds_total",
			"Total number of adds handled by workqueue."))),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Subsystem: "workqueue", Name: "queue_duration_seconds",
			ConstLabels: labels, Buckets: buckets,
			Help: "How long in seconds an item stays in workqueue before being requested."}),
		work: prometheus.NewHistogram(prometheus.HistogramOpts{Subsystem: "workqueue", Name: "work_duration_seconds",
			ConstLabels: labels, Buckets: buckets,
			Help: "How long in seconds processing an item from workqueue takes."}),
		unfinished: prometheus.NewGauge(prometheus.GaugeOpts(opts("unfinished_work_seconds",
			"How many seconds of work has been done that is in progress and hasn't been observed by work_duration. "+
				"Large values indicate stuck threads."))),
		longest: prometheus.NewGauge(prometheus.GaugeOpts(opts("longest_running_processor_seconds",
			"How many seconds has the longest running processor for workqueue been running."))),
		retries: prometheus.NewCounter(prometheus.CounterOpts(opts("retries_total",
			"Total number of retries handled by workqueue: keys put back after a delay (an error's backoff, a RequeueAfter)."))),
	}
}

func (q *queueMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{q.depth, q.adds, q.latency, q.work, q.unfinished, q.longest, q.retries}
}

// NewDepthMetric returns the depth gauge; the name is the controller's, already a label.
func (q *queueMetrics) NewDepthMetric(string) workqueue.GaugeMetric { return q.depth }

// NewAddsMetric returns the adds counter.
func (q *queueMetrics) NewAddsMetric(string) workqueue.CounterMetric { return q.adds }

// NewLatencyMetric returns the time keys wait in the queue.
func (q *queueMetrics) NewLatencyMetric(string) workqueue.HistogramMetric { return q.latency }

// NewWorkDurationMetric returns the time a key is held by a worker.
func (q *queueMetrics) NewWorkDurationMetric(string) workqueue.HistogramMetric { return q.work }

// NewUnfinishedWorkSecondsMetric returns the gauge of work in progress.
func (q *queueMetrics) NewUnfinishedWorkSecondsMetric(string) workqueue.SettableGaugeMetric {
	return q.unfinished
}

// NewLongestRunningProcessorSecondsMetric returns the gauge of the longest key in progress.
func (q *queueMetrics) NewLongestRunningProcessorSecondsMetric(string) workqueue.SettableGaugeMetric {
	return q.longest
}

// NewRetriesMetric returns the retries counter. The queue counts every delayed add in it, as
// in controller-runtime: a retry after an error's backoff and a RequeueAfter alike.
func (q *queueMetrics) NewRetriesMetric(string) workqueue.CounterMetric { return q.retries }
