package deploy_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

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

func stackVolumes(t *testing.T, c *client.Client, stack string) []string {
	t.Helper()
	resp, err := c.VolumeList(t.Context(), volume.ListOptions{
		Filters: filters.NewArgs(filters.Arg("label", swarmtest.NamespaceLabel+"="+stack)),
	})
	if err != nil {
		t.Fatalf("list volumes: %v", err)
	}
	var names []string
	for _, v := range resp.Volumes {
		names = append(names, v.Name)
	}
	return names
}

func TestRemove(t *testing.T) {
	f := newFake(t)
	d := deploy.New(deploy.Options{Engine: f, PollInterval: time.Millisecond})
	ctx := testContext(t)
	if _, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", nil), deploy.ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	f.AddVolume("s_data", map[string]string{deploy.LabelNamespace: "s"})
	f.AddVolume("sx_data", map[string]string{deploy.LabelNamespace: "sx"})
	other := createService(t, f, "sx_web", map[string]string{deploy.LabelNamespace: "sx"})

	r, err := d.Remove(ctx, "s", deploy.RemoveOptions{})
	if err != nil {
		t.Fatalf("remove: %v", err)
	}
	want := &deploy.Removal{
		Services: []string{"s_web", "s_worker"}, Networks: []string{"s_net"},
		Secrets: []string{"s_token"}, Configs: []string{"s_conf"},
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("removal %+v, want %+v", r, want)
	}
	state, err := d.Observe(ctx, "s")
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	if want := (&deploy.StackState{Name: "s", Volumes: []string{"s_data"}}); !reflect.DeepEqual(state, want) {
		t.Errorf("after remove: %+v, want only the volume %+v", state, want)
	}

	f.ResetCalls()
	r, err = d.Remove(ctx, "s", deploy.RemoveOptions{})
	if err != nil || !reflect.DeepEqual(r, &deploy.Removal{}) || len(mutationCalls(f)) != 0 {
		t.Errorf("second remove: %+v, %v, calls %v; want nothing to do", r, err, mutationCalls(f))
	}

	r, err = d.Remove(ctx, "s", deploy.RemoveOptions{Volumes: true})
	if err != nil || !reflect.DeepEqual(r.Volumes, []string{"s_data"}) {
		t.Errorf("remove with volumes: %+v, %v; want s_data removed", r, err)
	}
	if _, _, err := f.ServiceInspectWithRaw(ctx, other, swarm.ServiceInspectOptions{}); err != nil {
		t.Errorf("another stack's service was removed: %v", err)
	}
	vols, err := f.VolumeList(ctx, volume.ListOptions{})
	if err != nil || len(vols.Volumes) != 1 || vols.Volumes[0].Name != "sx_data" {
		t.Errorf("volumes %+v (%v), want only sx_data", vols.Volumes, err)
	}
}

func TestRemoveListingErrorIsAnError(t *testing.T) {
	f := newFake(t)
	d := deploy.New(deploy.Options{Engine: f})
	ctx := testContext(t)
	if _, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", nil), deploy.ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	boom := errors.New("engine unreachable")
	f.FailNext("ServiceList", boom)
	if _, err := d.Remove(ctx, "s", deploy.RemoveOptions{}); !errors.Is(err, boom) {
		t.Errorf("remove: %v, want the listing error", err)
	}
	if n := f.Calls("ServiceRemove"); n != 0 {
		t.Errorf("%d services removed after a listing error", n)
	}
}

func TestRemoveRetriesInUseRefusals(t *testing.T) {
	f := newFake(t)
	d := deploy.New(deploy.Options{Engine: f, PollInterval: time.Millisecond})
	ctx := testContext(t)
	if _, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", nil), deploy.ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	inUse := errors.New("network s_net has active endpoints")
	f.FailNext("NetworkRemove", inUse)
	f.FailNext("NetworkRemove", inUse)
	r, err := d.Remove(ctx, "s", deploy.RemoveOptions{})
	if err != nil {
		t.Fatalf("remove: %v", err)
	}
	if !reflect.DeepEqual(r.Networks, []string{"s_net"}) || f.Calls("NetworkRemove") != 3 {
		t.Errorf("removed networks %v after %d calls, want s_net after 3", r.Networks, f.Calls("NetworkRemove"))
	}
}
