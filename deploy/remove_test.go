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
