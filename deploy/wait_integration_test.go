//go:build integration

package deploy_test

import (
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

func TestWaitSwarmApplyThenUpgrade(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "wait")
	ctx := testContext(t)
	d := realDeployer(c)

	for _, img := range []string{swarmtest.ProbeV1, swarmtest.ProbeV2} {
		cs, err := d.Apply(ctx, renderStack(t, stack, "testdata/simple", map[string]string{"IMAGE": img}), deploy.ApplyOptions{})
		if err != nil {
			t.Fatalf("apply %s: %v", img, err)
		}
		start := time.Now()
		rep, err := d.Wait(ctx, cs, deploy.WaitOptions{Timeout: 30 * time.Second, Stable: time.Second})
		if err != nil {
			t.Fatalf("wait after applying %s: %v", img, err)
		}
		t.Logf("%s converged in %s", img, time.Since(start))
		if len(rep.Services) != 2 {
			t.Errorf("report of %d services, want 2", len(rep.Services))
		}
		for _, s := range rep.Services {
			if s.Phase != converge.PhaseConverged {
				t.Errorf("service %s: phase %s", s.Name, s.Phase)
			}
		}
		state, err := d.Observe(ctx, stack)
		if err != nil {
			t.Fatalf("observe: %v", err)
		}
		if web, ok := state.Service(stack + "_web"); !ok || web.Image != img || web.Running != 1 {
			t.Errorf("web %+v, want 1 task running %s", web, img)
		}
	}
}
