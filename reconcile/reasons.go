package reconcile

import (
	"errors"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/stack"
)

// failure ends a run red: the Succeeded condition turns False with reason, and tier (when
// set) is recorded as failed. Errors that are not failures are retried by the driver.
type failure struct {
	reason string
	tier   string
	err    error
}

func (f *failure) Error() string { return f.reason + ": " + f.err.Error() }

func (f *failure) Unwrap() error { return f.err }

// checkFailure is a recipe check that did not pass; its results are in the tier.
type checkFailure struct{ msg string }

func (e *checkFailure) Error() string { return e.msg }

// verifyFailure is a built-in verification of the head that did not hold.
type verifyFailure struct{ msg string }

func (e *verifyFailure) Error() string { return e.msg }

// reasonFor is the one place that maps an error to a condition reason: the run's own
// failures here, the deploy tree's in stack.Reason. final says whether the run must end with
// it; a non-final error is transient (the engine or the store refused for now) and goes back
// to the driver, which retries it with backoff.
func reasonFor(err error) (reason string, final bool) {
	var (
		f  *failure
		cf *checkFailure
		vf *verifyFailure
	)
	switch {
	case errors.As(err, &f):
		return f.reason, true
	case errors.As(err, &cf):
		return v1alpha1.ReasonCheckFailed, true
	case errors.As(err, &vf):
		return v1alpha1.ReasonVerifyFailed, true
	}
	return stack.Reason(err)
}
