package warm

import "time"

// Observer is told what warm stacks did, for metrics; the wiring passes swarmrun's metrics
// (*metrics.Metrics in internal/metrics). Methods must return quickly and never fail.
type Observer interface {
	// DeployConverged: a deploy of role (warm) converged this long after its apply.
	DeployConverged(role string, took time.Duration)
	// ServicesPruned: n services were removed from a stack of role (warm) because its
	// version no longer declares them.
	ServicesPruned(role string, n int)
}

// nopObserver is the Observer of a reconciler that reports to nobody.
type nopObserver struct{}

func (nopObserver) DeployConverged(string, time.Duration) {}
func (nopObserver) ServicesPruned(string, int)            {}
