package deploy_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// createService creates a idle service by hand and removes it when the test ends.
func createService(t *testing.T, c interface {
	ServiceCreate(context.Context, swarm.ServiceSpec, swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error)
	ServiceRemove(context.Context, string) error
}, name string, labels map[string]string) string {
	t.Helper()
	zero := uint64(0)
	resp, err := c.ServiceCreate(t.Context(), swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: name, Labels: labels},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{
			Image: swarmtest.ProbeV1, Args: []string{"-sleep", "0"},
		}},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &zero}},
	}, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatalf("create service %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.ServiceRemove(ctx, resp.ID); err != nil {
			t.Errorf("remove service %s: %v", name, err)
		}
	})
	return resp.ID
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestPrune(t *testing.T) {
	boom := errors.New("engine unreachable")
	for _, tc := range []struct {
		name      string
		setup     func(*fake.Fake)
		wantErr   error
		removed   []string
		remaining []string
	}{
		{name: "dropped service", removed: []string{"s_worker"}, remaining: []string{"s_web", "s_web2", "sx_web"}},
		{name: "listing error removes nothing", setup: func(f *fake.Fake) { f.FailNext("ServiceList", boom) },
			wantErr: boom, remaining: []string{"s_web", "s_web2", "s_worker", "sx_web"}},
		{name: "removal error is reported", setup: func(f *fake.Fake) { f.FailNext("ServiceRemove", boom) },
			wantErr: boom, remaining: []string{"s_web", "s_web2", "s_worker", "sx_web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			d := deploy.New(deploy.Options{Engine: f})
			ctx := testContext(t)
			if _, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", nil), deploy.ApplyOptions{}); err != nil {
				t.Fatalf("apply: %v", err)
			}
			createService(t, f, "s_web2", nil)
			createService(t, f, "sx_web", map[string]string{deploy.LabelNamespace: "sx"})
			head := renderStack(t, "s", "testdata/simple", nil, "dropped.yml")
			if _, err := d.Apply(ctx, head, deploy.ApplyOptions{}); err != nil {
				t.Fatalf("apply head: %v", err)
			}
			if tc.setup != nil {
				tc.setup(f)
			}
			removed, err := d.Prune(ctx, "s", head, nil)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("prune: %v, want %v", err, tc.wantErr)
			}
			if !slices.Equal(removed, tc.removed) {
				t.Errorf("removed %v, want %v", removed, tc.removed)
			}
			if names := serviceNames(t, f); !slices.Equal(names, tc.remaining) {
				t.Errorf("services left %v, want %v", names, tc.remaining)
			}
		})
	}
}

func TestPruneRejectsAnotherStacksRender(t *testing.T) {
	f := newFake(t)
	d := deploy.New(deploy.Options{Engine: f})
	removed, err := d.Prune(testContext(t), "s", renderStack(t, "other", "testdata/simple", nil), nil)
	if err == nil || len(removed) != 0 || f.Calls("ServiceRemove") != 0 {
		t.Errorf("prune with another stack's render: removed %v, err %v; want an error and nothing removed", removed, err)
	}
}
