package metrics

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewRegistry returns a registry with the Go runtime's and the process's collectors (memory,
// goroutines, CPU, open files), as a controller-runtime manager serves them.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Roles of deploys, the values of the role label.
const (
	RoleBase = "base"
	RoleHead = "head"
	RoleWarm = "warm"
)

// Metrics are swarmrun's own collectors (see the package doc). Create them with New.
type Metrics struct {
	finished    *prometheus.CounterVec
	level       prometheus.Histogram
	convergence *prometheus.HistogramVec
	pruned      *prometheus.CounterVec
	promotions  *prometheus.CounterVec
	gcRemoved   *prometheus.CounterVec
	gcFailures  *prometheus.CounterVec
	webhooks    *prometheus.CounterVec
}

// New registers swarmrun's collectors on reg. It fails when reg already has them (two
// Metrics on one registry is a wiring mistake).
func New(reg prometheus.Registerer) (*Metrics, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "swarmrun", Name: name, Help: help}, labels)
	}
	m := &Metrics{
		finished: counter("testruns_finished_total",
			"TestRuns that got their verdict, by the reason of their Succeeded condition.", "reason"),
		level: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "swarmrun", Name: "testrun_level",
			Help:    "Levels (0..5) of finished TestRuns.",
			Buckets: []float64{0, 1, 2, 3, 4, 5}}),
		convergence: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "swarmrun", Name: "deploy_convergence_seconds",
			Help: "Time from a deploy's apply to its convergence, by role: base, head (a run's phases) or warm.",
			// From a stack of a few tiny services to the default deploy bound (20m).
			Buckets: []float64{.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200}}, []string{"role"}),
		pruned: counter("services_pruned_total",
			"Services removed because the deploy no longer declares them, by role: head (a run) or warm.", "role"),
		promotions: counter("promotions_total",
			"Promotion decisions of finished runs of warm recipes: promoted or refused.", "result"),
		gcRemoved: counter("gc_removed_total",
			"Stale stacks and objects removed by garbage collection, by kind.", "kind"),
		gcFailures: counter("gc_failures_total",
			"Garbage collection removals that failed (tried again at the next pass), by kind.", "kind"),
		webhooks: counter("webhook_deliveries_total",
			"Forge webhook deliveries, by event and result.", "event", "result"),
	}
	for _, role := range []string{RoleBase, RoleHead, RoleWarm} {
		m.convergence.WithLabelValues(role)
	}
	for _, r := range []string{"promoted", "refused"} {
		m.promotions.WithLabelValues(r)
	}
	var done []prometheus.Collector
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			// Only what this call registered: Unregister goes by descriptors, and would take
			// another Metrics' collectors of the same names with it.
			for _, d := range done {
				reg.Unregister(d)
			}
			return nil, fmt.Errorf("register swarmrun metrics: %w", err)
		}
		done = append(done, c)
	}
	return m, nil
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.finished, m.level, m.convergence, m.pruned, m.promotions, m.gcRemoved, m.gcFailures, m.webhooks}
}

// RunFinished counts a TestRun's verdict: the reason of its Succeeded condition and its level.
func (m *Metrics) RunFinished(reason string, level int) {
	if m == nil {
		return
	}
	m.finished.WithLabelValues(reason).Inc()
	m.level.Observe(float64(level))
}

// DeployConverged observes how long a deploy of role took to converge after its apply.
func (m *Metrics) DeployConverged(role string, took time.Duration) {
	if m == nil {
		return
	}
	m.convergence.WithLabelValues(role).Observe(took.Seconds())
}

// ServicesPruned counts n services a deploy of role pruned.
func (m *Metrics) ServicesPruned(role string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.pruned.WithLabelValues(role).Add(float64(n))
}

// Promotion counts one promotion decision.
func (m *Metrics) Promotion(promoted bool) {
	if m == nil {
		return
	}
	r := "refused"
	if promoted {
		r = "promoted"
	}
	m.promotions.WithLabelValues(r).Inc()
}

// Collected counts one garbage collection removal of kind: done, or failed.
func (m *Metrics) Collected(kind string, failed bool) {
	if m == nil {
		return
	}
	if failed {
		m.gcFailures.WithLabelValues(kind).Inc()
		return
	}
	m.gcRemoved.WithLabelValues(kind).Inc()
}

// WebhookDelivered counts one forge webhook delivery. event is the forge's event type (push,
// pull_request, ...) and result what the handler did with it (accepted, ignored, rejected,
// ...): both must come from closed sets, never from the payload's free text.
func (m *Metrics) WebhookDelivered(event, result string) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(event, result).Inc()
}
