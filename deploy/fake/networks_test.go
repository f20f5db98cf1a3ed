package fake_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
)

func TestBuiltinNetworks(t *testing.T) {
	f, _ := newClocked(t)
	l, err := f.NetworkList(t.Context(), network.ListOptions{Filters: filters.NewArgs(filters.Arg("type", "builtin"))})
	if err != nil || len(l) != 4 {
		t.Fatalf("builtin networks: %v %d", err, len(l))
	}
	if _, err := f.NetworkCreate(t.Context(), "ingress", network.CreateOptions{Driver: "overlay"}); !cerrdefs.IsConflict(err) {
		t.Errorf("create ingress: %v", err)
	}
	if err := f.NetworkRemove(t.Context(), "bridge"); !cerrdefs.IsPermissionDenied(err) {
		t.Errorf("remove bridge: %v", err)
	}
}

func TestNetworkFreedWhenServiceGoes(t *testing.T) {
	f, _ := newClocked(t)
	n, err := f.NetworkCreate(t.Context(), "st_net", network.CreateOptions{Driver: "overlay"})
	if err != nil {
		t.Fatal(err)
	}
	spec := svcSpec("web", probe1)
	spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: "st_net"}}
	id := mustCreate(t, f, spec)
	if ep := mustInspect(t, f, id).Endpoint; len(ep.VirtualIPs) != 1 || ep.VirtualIPs[0].NetworkID != n.ID {
		t.Errorf("endpoint: %+v", ep)
	}
	if err := f.NetworkRemove(t.Context(), n.ID); !cerrdefs.IsInvalidArgument(err) {
		t.Errorf("remove in use: %v", err)
	}
	if err := f.ServiceRemove(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if err := f.NetworkRemove(t.Context(), "st_net"); err != nil {
		t.Errorf("remove by name once free: %v", err)
	}
}

func TestVolumesFromMountsAndAddVolume(t *testing.T) {
	f, _ := newClocked(t)
	f.AddVolume("loose", map[string]string{"k": "v"})
	spec := svcSpec("db", probe1)
	spec.TaskTemplate.ContainerSpec.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: "st_data", Target: "/data",
		VolumeOptions: &mount.VolumeOptions{Labels: map[string]string{"com.docker.stack.namespace": "st"}}}}
	mustCreate(t, f, spec)
	all, err := f.VolumeList(t.Context(), volume.ListOptions{})
	if err != nil || len(all.Volumes) != 2 {
		t.Fatalf("volumes: %v %+v", err, all.Volumes)
	}
	dangling, _ := f.VolumeList(t.Context(), volume.ListOptions{Filters: filters.NewArgs(filters.Arg("dangling", "true"))})
	if len(dangling.Volumes) != 1 || dangling.Volumes[0].Name != "loose" {
		t.Errorf("dangling: %+v", dangling.Volumes)
	}
	if err := f.VolumeRemove(t.Context(), "nope", true); err != nil {
		t.Errorf("forced removal of a missing volume: %v", err)
	}
}

// TestConcurrentUse drives the fake from many goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	f, _ := newClocked(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	msgs, _ := f.Events(ctx, events.ListOptions{})
	go func() {
		for range msgs {
		}
	}()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				name := fmt.Sprintf("g%d_s%d", g, i)
				id := mustCreate(t, f, svcSpec(name, probe1))
				s := mustInspect(t, f, id)
				s.Spec.TaskTemplate.ContainerSpec.Image = probe2
				if _, err := f.ServiceUpdate(ctx, id, s.Version, s.Spec, swarm.ServiceUpdateOptions{}); err != nil {
					t.Errorf("update: %v", err)
				}
				if _, err := f.ServiceList(ctx, swarm.ServiceListOptions{Status: true}); err != nil {
					t.Errorf("list: %v", err)
				}
				tasksOf(t, f, id)
				if err := f.ServiceRemove(ctx, id); err != nil {
					t.Errorf("remove: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if l, _ := f.ServiceList(ctx, swarm.ServiceListOptions{}); len(l) != 0 {
		t.Errorf("services left: %d", len(l))
	}
	if n := f.Calls("ServiceCreate"); n != 160 {
		t.Errorf("create calls: %d", n)
	}
}

// TestRemovedServiceTasksLinger: after ServiceRemove the tasks leave over the next steps, as on
// the engine: listed by the stack label, their container still holding its volume.
func TestRemovedServiceTasksLinger(t *testing.T) {
	f, _ := newManual(t)
	spec := svcSpec("db", probe1)
	spec.TaskTemplate.ContainerSpec.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: "st_data", Target: "/data"}}
	id := mustCreate(t, f, spec)
	f.Settle()
	if err := f.ServiceRemove(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	byStack := func() []swarm.Task {
		ts, err := f.TaskList(t.Context(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.stack.namespace=st"))})
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	if ts := byStack(); len(ts) != 1 || ts[0].DesiredState != swarm.TaskStateRemove || ts[0].Status.State != swarm.TaskStateRunning {
		t.Fatalf("right after removal: %+v", ts)
	}
	if err := f.VolumeRemove(t.Context(), "st_data", false); !cerrdefs.IsConflict(err) {
		t.Errorf("volume of a removed service's running task: %v", err)
	}
	f.Step()
	if ts := byStack(); len(ts) != 1 || ts[0].Status.State != swarm.TaskStateShutdown {
		t.Fatalf("after a step: %v", states(ts))
	}
	f.Step()
	if ts := byStack(); len(ts) != 0 {
		t.Fatalf("after two steps: %v", states(ts))
	}
	if err := f.VolumeRemove(t.Context(), "st_data", false); err != nil {
		t.Errorf("volume once the task is gone: %v", err)
	}
}
