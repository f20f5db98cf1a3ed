package reconcile

import (
	"errors"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/render"
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

// renderFailure is a recipe whose compose cannot be produced (compose files, env, overlays).
type renderFailure struct{ err error }

func (e *renderFailure) Error() string { return e.err.Error() }

func (e *renderFailure) Unwrap() error { return e.err }

// reasonFor is the one place that maps an error to a condition reason. final says whether the
// run must end with it; a non-final error is transient (the engine or the store refused for
// now) and goes back to the driver, which retries it with backoff.
func reasonFor(err error) (reason string, final bool) {
	var (
		f    *failure
		img  *deploy.ImageError
		conv *converge.Error
		rend *render.Error
		rf   *renderFailure
		imm  *deploy.ImmutableError
		ext  *deploy.MissingExternalError
		cf   *checkFailure
		vf   *verifyFailure
	)
	switch {
	case errors.As(err, &f):
		return f.reason, true
	case errors.As(err, &img):
		return v1alpha1.ReasonImagePullFailed, true
	case errors.As(err, &conv):
		return convergeReason(conv.Reason), true
	case errors.As(err, &cf):
		return v1alpha1.ReasonCheckFailed, true
	case errors.As(err, &vf):
		return v1alpha1.ReasonVerifyFailed, true
	case errors.As(err, &rend), errors.As(err, &rf), errors.As(err, &imm), errors.As(err, &ext),
		errors.Is(err, deploy.ErrNoRender):
		return v1alpha1.ReasonRenderFailed, true
	case errors.Is(err, recipe.ErrRefNotFound), errors.Is(err, recipe.ErrAmbiguousRef),
		errors.Is(err, recipe.ErrNoTargetBranch), errors.Is(err, recipe.ErrCommitNotFound):
		return v1alpha1.ReasonSourceFailed, true
	}
	return v1alpha1.ReasonEngineError, false
}

// convergeReason names a convergence failure as a condition reason.
func convergeReason(r converge.Reason) string {
	switch r {
	case converge.ImageNotFound:
		return v1alpha1.ReasonImagePullFailed
	case converge.Timeout:
		return v1alpha1.ReasonConvergenceTimeout
	case converge.RolledBack, converge.UpdatePaused:
		return v1alpha1.ReasonRolledBack
	case converge.Unhealthy:
		return v1alpha1.ReasonUnhealthy
	}
	return v1alpha1.ReasonTaskFailed
}
