package reconcile

import (
	"context"
	"errors"
	"fmt"
	"testing"

	gogit "github.com/go-git/go-git/v5"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/render"
	"github.com/swarmrun/swarmrun/deploy/stack"
)

func TestReasonFor(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("apply base: %w", err) }
	tests := []struct {
		name       string
		err        error
		wantReason string
		wantFinal  bool
	}{
		{"image before apply", wrap(&deploy.ImageError{}), v1alpha1.ReasonImagePullFailed, true},
		{"image while converging", wrap(&converge.Error{Reason: converge.ImageNotFound}), v1alpha1.ReasonImagePullFailed, true},
		{"convergence timeout", wrap(&converge.Error{Reason: converge.Timeout}), v1alpha1.ReasonConvergenceTimeout, true},
		{"rolled back", wrap(&converge.Error{Reason: converge.RolledBack}), v1alpha1.ReasonRolledBack, true},
		{"paused", wrap(&converge.Error{Reason: converge.UpdatePaused}), v1alpha1.ReasonRolledBack, true},
		{"unhealthy", wrap(&converge.Error{Reason: converge.Unhealthy}), v1alpha1.ReasonUnhealthy, true},
		{"crash loop", wrap(&converge.Error{Reason: converge.TaskFailed}), v1alpha1.ReasonTaskFailed, true},
		{"check", &checkFailure{msg: "x"}, v1alpha1.ReasonCheckFailed, true},
		{"verify", &verifyFailure{msg: "x"}, v1alpha1.ReasonVerifyFailed, true},
		{"render", wrap(&render.Error{Err: errors.New("bad yaml")}), v1alpha1.ReasonRenderFailed, true},
		{"compose files", wrap(fmt.Errorf("%w: no compose.yml", stack.ErrRender)), v1alpha1.ReasonRenderFailed, true},
		{"missing local source", wrap(gogit.ErrRepositoryNotExists), v1alpha1.ReasonSourceFailed, true},
		{"immutable secret", wrap(&deploy.ImmutableError{Kind: "secret", Name: "s_v1"}), v1alpha1.ReasonRenderFailed, true},
		{"missing external", wrap(&deploy.MissingExternalError{Networks: []string{"proxy"}}), v1alpha1.ReasonRenderFailed, true},
		{"no render to prune by", wrap(deploy.ErrNoRender), v1alpha1.ReasonRenderFailed, true},
		{"unknown ref", wrap(recipe.ErrRefNotFound), v1alpha1.ReasonSourceFailed, true},
		{"run failure", &failure{reason: v1alpha1.ReasonTimeout, err: errors.New("late")}, v1alpha1.ReasonTimeout, true},
		{"engine refuses for now", wrap(errors.New("connection refused")), v1alpha1.ReasonEngineError, false},
		{"not a manager", wrap(deploy.ErrNotManager), v1alpha1.ReasonEngineError, false},
		{"cancelled", wrap(context.Canceled), v1alpha1.ReasonEngineError, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, final := reasonFor(tt.err)
			if reason != tt.wantReason || final != tt.wantFinal {
				t.Errorf("reasonFor = %s, %t; want %s, %t", reason, final, tt.wantReason, tt.wantFinal)
			}
		})
	}
}
