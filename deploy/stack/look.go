package stack

import (
	"context"
	"errors"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/confine"
	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/policy"
	"github.com/swarmrun/swarmrun/deploy/render"
)

// Look takes one look at the targets of a deploy and judges them (converge.Look), with the
// health statuses that container events reported since (RecordHealth). It never waits: the
// caller stores the step's memo and looks again when an event of the stack wakes it, at
// NextLook, or gives up at its own deadline (Step.TimedOut).
func (p *Pipeline) Look(ctx context.Context, targets []Target, memo Memo) (*Step, error) {
	return converge.Look(ctx, p.engine, targets, memo, converge.Options{
		Stable: p.stable, MaxFailures: p.maxFailures, Now: p.now,
		Health: func() map[string]string { return p.health.Snapshot() },
	})
}

// Look delays: a deploy in motion is looked at again soon, one that has been still for a
// while less often, and never less often than MaxLookDelay.
const (
	MinLookDelay = 25 * time.Millisecond
	MaxLookDelay = time.Second
)

// NextLook is how long to wait before the next look at a deploy that is not done: a quarter
// of the time since anything last changed (the engine records a task's state a little after
// the event that woke the look, so a change is followed by quick looks), between MinLookDelay
// and MaxLookDelay, and no later than a stabilising service's end of window. Events of the
// stack wake the caller earlier.
func NextLook(step *Step, now time.Time) time.Duration {
	d := now.Sub(step.Memo.LastChange) / 4
	d = min(max(d, MinLookDelay), MaxLookDelay)
	if !step.WakeAt.IsZero() {
		d = min(d, max(step.WakeAt.Sub(now), 0))
	}
	return d
}

// RecordHealth keeps a health status a container event reported ("healthy", "unhealthy",
// "starting"), for the next looks: the engine records a task killed for being unhealthy
// like any exit, so only these events tell a health loop from a crash loop.
func (p *Pipeline) RecordHealth(containerID, status string) { p.health.Record(containerID, status) }

// HealthLog keeps the last health status of the most recent containers, bounded.
type HealthLog struct {
	mu     sync.Mutex
	max    int
	order  []string
	status map[string]string
}

// DefaultHealthLogSize bounds a HealthLog when NewHealthLog is given zero.
const DefaultHealthLogSize = 4096

// NewHealthLog returns a log of at most size containers (DefaultHealthLogSize when zero).
func NewHealthLog(size int) *HealthLog {
	if size <= 0 {
		size = DefaultHealthLogSize
	}
	return &HealthLog{max: size, status: map[string]string{}}
}

// Record keeps status for the container, forgetting the oldest container past the bound.
func (h *HealthLog) Record(containerID, status string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.status[containerID]; !ok {
		h.order = append(h.order, containerID)
		if len(h.order) > h.max {
			delete(h.status, h.order[0])
			h.order = h.order[1:]
		}
	}
	h.status[containerID] = status
}

// Snapshot returns the statuses kept, by container ID.
func (h *HealthLog) Snapshot() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]string, len(h.status))
	for k, v := range h.status {
		out[k] = v
	}
	return out
}

// Reason maps an error of the deploy tree to a condition reason, and says whether a run
// must end with it. A non-final error is transient (the engine or a git remote refused for
// now) and is retried by the controller. It is the deploy half of the reconcilers' one
// mapping from errors to reasons.
func Reason(err error) (reason string, final bool) {
	var (
		img   *deploy.ImageError
		conv  *converge.Error
		rend  *render.Error
		imm   *deploy.ImmutableError
		ext   *deploy.MissingExternalError
		owned *deploy.NotOwnedError
	)
	switch {
	case errors.As(err, &img):
		return v1alpha1.ReasonImagePullFailed, true
	case errors.As(err, &conv):
		return ConvergeReasonFor(conv.Reason), true
	case errors.Is(err, policy.ErrDenied):
		return v1alpha1.ReasonPolicyDenied, true
	case errors.As(err, &owned):
		return v1alpha1.ReasonStackNotOwned, true
	case errors.Is(err, confine.ErrUnsafe):
		return v1alpha1.ReasonRenderFailed, true
	case errors.Is(err, ErrRender), errors.As(err, &rend), errors.As(err, &imm), errors.As(err, &ext),
		errors.Is(err, deploy.ErrNoRender):
		return v1alpha1.ReasonRenderFailed, true
	case errors.Is(err, ErrRefNotFound), errors.Is(err, ErrAmbiguousRef),
		errors.Is(err, ErrNoTargetBranch), errors.Is(err, ErrCommitNotFound):
		return v1alpha1.ReasonSourceFailed, true
	case errors.Is(err, git.ErrRepositoryNotExists), errors.Is(err, transport.ErrRepositoryNotFound),
		errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrEmptyRemoteRepository), errors.Is(err, transport.ErrInvalidAuthMethod):
		// The source does not exist, or refuses us: a network error or a remote that is
		// down is transient instead, and retried.
		return v1alpha1.ReasonSourceFailed, true
	}
	return v1alpha1.ReasonEngineError, false
}

// ConvergeReasonFor names a convergence failure as a condition reason.
func ConvergeReasonFor(r converge.Reason) string {
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
