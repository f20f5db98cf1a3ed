package fake_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/fake"
)

// A service of a present image runs by the time ServiceCreate returns; a crashing image fails
// with the engine's message and waits out the restart delay on the injected clock.
func Example() {
	ctx := context.Background()
	clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := fake.New(fake.Options{Now: clock.Now, Images: []string{"app:1", "app:2"}})
	f.CrashImage("app:2", 1)

	spec := swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: "demo_web"},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "app:1"}},
	}
	created, _ := f.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{})
	tasks, _ := f.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", "demo_web"))})
	fmt.Println(tasks[0].Status.State)

	svc, _, _ := f.ServiceInspectWithRaw(ctx, created.ID, swarm.ServiceInspectOptions{})
	svc.Spec.TaskTemplate.ContainerSpec.Image = "app:2"
	_, _ = f.ServiceUpdate(ctx, svc.ID, svc.Version, svc.Spec, swarm.ServiceUpdateOptions{})
	tasks, _ = f.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", "demo_web"))})
	fmt.Println(tasks[1].Status.State, tasks[1].Status.Err)

	svc, _, _ = f.ServiceInspectWithRaw(ctx, created.ID, swarm.ServiceInspectOptions{})
	fmt.Println(svc.UpdateStatus.State)

	// A stale version is refused as the engine refuses it; injected errors come first.
	_, err := f.ServiceUpdate(ctx, svc.ID, swarm.Version{Index: 1}, svc.Spec, swarm.ServiceUpdateOptions{})
	fmt.Println(err)
	f.FailNext("ServiceRemove", errors.New("injected"))
	fmt.Println(f.ServiceRemove(ctx, svc.ID), f.Calls("ServiceRemove"))
	// Output:
	// running
	// failed task: non-zero exit (1)
	// paused
	// Error response from daemon: rpc error: code = Unknown desc = update out of sequence
	// injected 1
}
