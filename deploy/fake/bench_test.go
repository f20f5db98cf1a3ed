package fake_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/fake"
)

// BenchmarkStackLifecycle deploys a five-service stack, lists its tasks, updates one service,
// and removes the stack, while other stacks run: the engine work of one TestRun phase.
func BenchmarkStackLifecycle(b *testing.B) {
	for _, stacks := range []int{10, 200} {
		b.Run(fmt.Sprintf("others=%d", stacks), func(b *testing.B) { benchLifecycle(b, stacks) })
	}
}

func benchLifecycle(b *testing.B, others int) {
	ctx := context.Background()
	f := fake.New(fake.Options{Images: []string{probe1, probe2}, FastRollouts: true})
	for i := range others {
		deployStack(b, f, fmt.Sprintf("bg%d", i))
	}
	for i := 0; b.Loop(); i++ {
		ns := fmt.Sprintf("run%d", i)
		ids := deployStack(b, f, ns)
		args := filters.NewArgs(filters.Arg("label", "com.docker.stack.namespace="+ns))
		if ts, err := f.TaskList(ctx, swarm.TaskListOptions{Filters: args}); err != nil || len(ts) != 5 {
			b.Fatalf("tasks: %v %d", err, len(ts))
		}
		s, _, err := f.ServiceInspectWithRaw(ctx, ids[0], swarm.ServiceInspectOptions{})
		if err != nil {
			b.Fatal(err)
		}
		s.Spec.TaskTemplate.ContainerSpec.Image = probe2
		if _, err := f.ServiceUpdate(ctx, s.ID, s.Version, s.Spec, swarm.ServiceUpdateOptions{}); err != nil {
			b.Fatal(err)
		}
		for _, id := range ids {
			if err := f.ServiceRemove(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func deployStack(tb testing.TB, f *fake.Fake, ns string) []string {
	tb.Helper()
	var ids []string
	for j := 0; j < 5; j++ {
		spec := swarm.ServiceSpec{
			Annotations:  swarm.Annotations{Name: fmt.Sprintf("%s_s%d", ns, j), Labels: map[string]string{"com.docker.stack.namespace": ns}},
			TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: probe1}},
		}
		r, err := f.ServiceCreate(context.Background(), spec, swarm.ServiceCreateOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}
