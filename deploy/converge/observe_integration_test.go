//go:build integration

package converge

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// TestSameTaskSpecAgreesWithEngine keeps the local up-to-date test (used when an engine lacks
// the filter) honest against the engine's own, across an image update and a label-only update
// that restarts nothing.
func TestSameTaskSpecAgreesWithEngine(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	t.Parallel()
	stack := swarmtest.StackName(t, c, "cv-utd")
	replicas := uint64(1)
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: stack + "_app", Labels: map[string]string{swarmtest.NamespaceLabel: stack}},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: swarmtest.ProbeV1},
			Placement:     &swarm.Placement{Constraints: []string{"node.role==manager"}},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
		UpdateConfig: &swarm.UpdateConfig{Order: swarm.UpdateOrderStartFirst, Monitor: 200 * time.Millisecond},
	}
	resp, err := c.ServiceCreate(t.Context(), spec, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.ID
	target := Target{ServiceID: id, Name: spec.Name, Changed: true}
	wait := func(target Target) {
		t.Helper()
		if _, err := Wait(t.Context(), c, []Target{target}, Options{Timeout: 60 * time.Second, Stable: -1}); err != nil {
			t.Fatalf("wait: %v", err)
		}
	}
	compare := func(step string) {
		t.Helper()
		svc, _, err := c.ServiceInspectWithRaw(t.Context(), id, swarm.ServiceInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		f := filters.NewArgs(filters.Arg("service", id))
		all, err := c.TaskList(t.Context(), swarm.TaskListOptions{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		f.Add("_up-to-date", "true")
		fresh, err := c.TaskList(t.Context(), swarm.TaskListOptions{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		engine := map[string]bool{}
		for _, tk := range fresh {
			engine[tk.ID] = true
		}
		for _, tk := range all {
			if got := sameTaskSpec(svc, tk); got != engine[tk.ID] {
				t.Errorf("%s: task %s (%s): local up-to-date %v, engine %v", step, tk.ID, tk.Spec.ContainerSpec.Image, got, engine[tk.ID])
			}
		}
		if len(fresh) == 0 {
			t.Errorf("%s: the engine reports no task up to date", step)
		}
	}
	wait(target)
	compare("created")

	update := func(step string, mutate func(*swarm.ServiceSpec)) {
		t.Helper()
		svc, _, err := c.ServiceInspectWithRaw(t.Context(), id, swarm.ServiceInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := svc.Spec
		mutate(&s)
		if _, err := c.ServiceUpdate(t.Context(), id, svc.Version, s, swarm.ServiceUpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		wait(Target{ServiceID: id, Name: s.Name, PrevVersion: svc.Version.Index, Changed: true})
		compare(step)
	}
	update("image update", func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Image = swarmtest.ProbeV2 })
	update("label-only update", func(s *swarm.ServiceSpec) { s.Labels["swarmrun.test/touched"] = "1" })
}
