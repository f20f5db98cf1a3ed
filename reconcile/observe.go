package reconcile

import "time"

// Observer is told what runs did, for metrics: each fact once, when it happened or once it is
// stored, never from a step that is repeated. The wiring passes swarmrun's metrics
// (*metrics.Metrics in internal/metrics); reconcile itself knows nothing of Prometheus.
// Methods must return quickly and never fail.
type Observer interface {
	// RunFinished: a run's verdict is stored, with the reason of its Succeeded condition and
	// its level.
	RunFinished(reason string, level int)
	// DeployConverged: the deploy of role (base or head) converged this long after its apply.
	DeployConverged(role string, took time.Duration)
	// ServicesPruned: n services were removed from the deploy of role because it no longer
	// declares them.
	ServicesPruned(role string, n int)
	// Promotion: a finished run of a warm recipe was promoted to its canonical, or not.
	Promotion(promoted bool)
}

// nopObserver is the Observer of a reconciler that reports to nobody.
type nopObserver struct{}

func (nopObserver) RunFinished(string, int)               {}
func (nopObserver) DeployConverged(string, time.Duration) {}
func (nopObserver) ServicesPruned(string, int)            {}
func (nopObserver) Promotion(bool)                        {}
