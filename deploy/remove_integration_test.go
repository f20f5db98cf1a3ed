//go:build integration

package deploy_test

import (
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

func TestRemoveSwarm(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "remove")
	ctx := testContext(t)
	d := realDeployer(c)

	if _, err := d.Apply(ctx, renderStack(t, stack, "testdata/simple", nil), deploy.ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	// The engine creates the named volume when the first task mounts it.
	waitRunning(t, d, stack, 30*time.Second)
	if vols := stackVolumes(t, c, stack); len(vols) != 1 {
		t.Fatalf("volumes %v, want the stack's data volume", vols)
	}

	start := time.Now()
	r, err := d.Remove(ctx, stack, deploy.RemoveOptions{})
	if err != nil {
		t.Fatalf("remove: %v", err)
	}
	t.Logf("removed in %s: %+v", time.Since(start), r)
	if len(r.Services) != 2 || len(r.Networks) != 1 || len(r.Secrets) != 1 || len(r.Configs) != 1 || len(r.Volumes) != 0 {
		t.Errorf("removal %+v, want 2 services, 1 network, 1 secret, 1 config, no volume", r)
	}
	state, err := d.Observe(ctx, stack)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	if len(state.Services)+len(state.Networks)+len(state.Secrets)+len(state.Configs) != 0 {
		t.Errorf("left after remove: %+v", state)
	}
	if len(state.Volumes) != 1 {
		t.Errorf("volumes after remove without Volumes: %v, want the data volume kept", state.Volumes)
	}

	r, err = d.Remove(ctx, stack, deploy.RemoveOptions{})
	if err != nil {
		t.Fatalf("second remove: %v", err)
	}
	if len(r.Services)+len(r.Networks)+len(r.Secrets)+len(r.Configs)+len(r.Volumes) != 0 {
		t.Errorf("second remove removed %+v, want nothing", r)
	}

	r, err = d.Remove(ctx, stack, deploy.RemoveOptions{Volumes: true})
	if err != nil {
		t.Fatalf("remove with volumes: %v", err)
	}
	if len(r.Volumes) != 1 || r.Volumes[0] != stack+"_data" {
		t.Errorf("removed volumes %v, want %s_data", r.Volumes, stack)
	}
	if vols := stackVolumes(t, c, stack); len(vols) != 0 {
		t.Errorf("volumes left: %v", vols)
	}
}
