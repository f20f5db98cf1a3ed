package fake_test

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/fake"
)

// t0 is the start of every manual clock: a fixed instant keeps the tests deterministic.
func t0() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// newManual returns a fake that moves only when told to, on a clock that moves only when
// told to.
func newManual(t *testing.T) (*fake.Fake, *fake.Clock) {
	t.Helper()
	clk := fake.NewClock(t0())
	return fake.New(fake.Options{Now: clk.Now, Manual: true, Images: []string{probe1, probe2}}), clk
}

// newClocked returns an automatic fake on a manual clock.
func newClocked(t *testing.T) (*fake.Fake, *fake.Clock) {
	t.Helper()
	clk := fake.NewClock(t0())
	return fake.New(fake.Options{Now: clk.Now, Images: []string{probe1, probe2}}), clk
}

func svcSpec(name, image string) swarm.ServiceSpec {
	return swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: name, Labels: map[string]string{"com.docker.stack.namespace": "st"}},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: image}},
	}
}

func mustCreate(t *testing.T, f *fake.Fake, spec swarm.ServiceSpec) string {
	t.Helper()
	r, err := f.ServiceCreate(t.Context(), spec, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatalf("create %s: %v", spec.Name, err)
	}
	return r.ID
}

func mustInspect(t *testing.T, f *fake.Fake, id string) swarm.Service {
	t.Helper()
	s, _, err := f.ServiceInspectWithRaw(t.Context(), id, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatalf("inspect %s: %v", id, err)
	}
	return s
}

func mustUpdate(t *testing.T, f *fake.Fake, s swarm.Service) {
	t.Helper()
	if _, err := f.ServiceUpdate(t.Context(), s.ID, s.Version, s.Spec, swarm.ServiceUpdateOptions{}); err != nil {
		t.Fatalf("update %s: %v", s.Spec.Name, err)
	}
}

func tasksOf(t *testing.T, f *fake.Fake, id string) []swarm.Task {
	t.Helper()
	ts, err := f.TaskList(context.Background(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", id))})
	if err != nil {
		t.Fatalf("tasks of %s: %v", id, err)
	}
	return ts
}

// states lists the tasks' states in creation order.
func states(ts []swarm.Task) []swarm.TaskState {
	out := make([]swarm.TaskState, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Status.State)
	}
	return out
}

func updateState(t *testing.T, f *fake.Fake, id string) swarm.UpdateState {
	t.Helper()
	us := mustInspect(t, f, id).UpdateStatus
	if us == nil {
		return ""
	}
	return us.State
}
