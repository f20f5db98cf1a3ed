//go:build integration

package deploy_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

func TestPruneSwarmRemovesExactlyTheDroppedService(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "prune")
	ctx := testContext(t)
	d := realDeployer(c)

	if _, err := d.Apply(ctx, renderStack(t, stack, "testdata/simple", nil), deploy.ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	// Look-alikes that are not the stack's: a service named like one of its own without the
	// namespace label, and one of another stack whose name extends this one.
	lookalike := createService(t, c, stack+"_web2", nil)
	other := createService(t, c, stack+"x_web", map[string]string{deploy.LabelNamespace: stack + "x"})

	head := renderStack(t, stack, "testdata/simple", nil, "dropped.yml")
	if _, err := d.Apply(ctx, head, deploy.ApplyOptions{}); err != nil {
		t.Fatalf("apply head: %v", err)
	}
	removed, err := d.Prune(ctx, stack, head, nil)
	if err != nil {
		t.Fatalf("prune: %v", err)
	}
	if want := []string{stack + "_worker"}; !slices.Equal(removed, want) {
		t.Errorf("pruned %v, want %v", removed, want)
	}
	left := stackServices(t, c, stack)
	if _, ok := left[stack+"_web"]; !ok || len(left) != 1 {
		t.Errorf("stack services after prune: %v, want only %s_web", keys(left), stack)
	}
	for _, id := range []string{lookalike, other} {
		if _, _, err := c.ServiceInspectWithRaw(ctx, id, swarm.ServiceInspectOptions{}); err != nil {
			t.Errorf("service %s outside the stack was touched: %v", id, err)
		}
	}

	again, err := d.Prune(ctx, stack, head, nil)
	if err != nil || len(again) != 0 {
		t.Errorf("second prune: removed %v, err %v; want nothing", again, err)
	}
}

func TestPruneWithoutRenderRemovesNothing(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "noprune")
	ctx := testContext(t)
	d := realDeployer(c)
	if _, err := d.Apply(ctx, renderStack(t, stack, "testdata/simple", nil), deploy.ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	renderErr := errors.New("compose.yml: services.app.image: missing")
	for _, tc := range []struct {
		name      string
		renderErr error
	}{
		{"render error", renderErr},
		{"no render", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			removed, err := d.Prune(ctx, stack, nil, tc.renderErr)
			if !errors.Is(err, deploy.ErrNoRender) {
				t.Errorf("prune: %v, want ErrNoRender", err)
			}
			if tc.renderErr != nil && !errors.Is(err, tc.renderErr) {
				t.Errorf("prune: %v, want it to carry the render error", err)
			}
			if len(removed) != 0 {
				t.Errorf("removed %v", removed)
			}
		})
	}
	if n := len(stackServices(t, c, stack)); n != 2 {
		t.Errorf("%d services left, want both", n)
	}
}
