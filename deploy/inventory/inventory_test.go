package inventory_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
)

const probe = "swarmrun-probe:1"

var listings = []string{"ServiceList", "NetworkList", "SecretList", "ConfigList", "VolumeList"}

func newFake(t *testing.T) *fake.Fake {
	t.Helper()
	return fake.New(fake.Options{Images: []string{probe}})
}

func mustCreate(t *testing.T, e deploy.Engine, s invtest.Stack) {
	t.Helper()
	if s.Image == "" {
		s.Image = probe
	}
	if err := invtest.Create(t.Context(), e, s); err != nil {
		t.Fatal(err)
	}
}

func names(objs []inventory.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Kind+":"+o.Name)
	}
	return out
}

func TestListGroupsByNamespaceWithOneListingPerType(t *testing.T) {
	f := newFake(t)
	owned := map[string]string{"swarmrun.dev/managed-by": "swarmrun", "swarmrun.dev/testrun": "r1"}
	mustCreate(t, f, invtest.Stack{Name: "run1", Labels: owned, Services: 2, Network: true, Secret: true, Config: true})
	mustCreate(t, f, invtest.Stack{Name: "demo", Services: 1})
	if _, err := invtest.Secret(t.Context(), f, "loose_pw", map[string]string{"swarmrun.dev/managed-by": "swarmrun"}); err != nil {
		t.Fatal(err)
	}
	f.AddVolume("run1_data", map[string]string{deploy.LabelNamespace: "run1"})
	f.ResetCalls()

	inv, err := inventory.List(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range listings {
		if got := f.Calls(m); got != 1 {
			t.Errorf("%s called %d times, want 1", m, got)
		}
	}
	if got := inv.StackNames(); !slices.Equal(got, []string{"demo", "run1"}) {
		t.Fatalf("stacks = %v", got)
	}
	run1 := inv.Stacks["run1"]
	want := []string{"service:run1_s0", "service:run1_s1", "network:run1_default", "secret:run1_pw_v1", "config:run1_conf_v1", "volume:run1_data"}
	if got := names(run1.Objects()); !slices.Equal(got, want) {
		t.Errorf("run1 objects = %v, want %v", got, want)
	}
	for _, o := range run1.Objects() {
		if o.Stack != "run1" || o.Labels["swarmrun.dev/testrun"] != "r1" && o.Kind != inventory.KindVolume {
			t.Errorf("%s %s: stack %q labels %v", o.Kind, o.Name, o.Stack, o.Labels)
		}
		switch o.Kind {
		case inventory.KindNetwork, inventory.KindSecret, inventory.KindConfig:
			if !slices.Equal(o.UsedBy, []string{"run1_s0", "run1_s1"}) {
				t.Errorf("%s %s used by %v", o.Kind, o.Name, o.UsedBy)
			}
		}
	}
	if run1.LastChange().IsZero() {
		t.Error("run1 has no last change time")
	}
	var loose []string
	for _, o := range inv.Loose {
		if !o.Predefined {
			loose = append(loose, o.Kind+":"+o.Name)
		}
	}
	if !slices.Equal(loose, []string{"secret:loose_pw"}) {
		t.Errorf("loose = %v", loose)
	}
	if inv.Loose[0].Kind != inventory.KindNetwork || !inv.Loose[0].Predefined {
		t.Errorf("built-in networks should come first and be predefined: %+v", inv.Loose[0])
	}
}

func TestListRecordsVolumeUsers(t *testing.T) {
	f := newFake(t)
	f.AddVolume("st_data", map[string]string{deploy.LabelNamespace: "st"})
	one := uint64(1)
	_, err := f.ServiceCreate(t.Context(), swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: "st_db", Labels: map[string]string{deploy.LabelNamespace: "st"}},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: probe,
			Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: "st_data", Target: "/data"}}}},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
	}, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.List(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	v := inv.Stacks["st"].Volumes
	if len(v) != 1 || !slices.Equal(v[0].UsedBy, []string{"st_db"}) {
		t.Fatalf("volumes = %+v", v)
	}
}

func TestListFailsOnAnyListingError(t *testing.T) {
	for _, m := range listings {
		t.Run(m, func(t *testing.T) {
			f := newFake(t)
			boom := errors.New("boom")
			f.FailNext(m, boom)
			inv, err := inventory.List(t.Context(), f)
			if !errors.Is(err, boom) || inv != nil {
				t.Fatalf("List = %v, %v; want the %s error and no inventory", inv, err, m)
			}
		})
	}
}

func TestListStack(t *testing.T) {
	f := newFake(t)
	mustCreate(t, f, invtest.Stack{Name: "a", Services: 1, Network: true})
	mustCreate(t, f, invtest.Stack{Name: "ab", Services: 1})
	st, err := inventory.ListStack(t.Context(), f, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(st.Objects()); !slices.Equal(got, []string{"service:a_s0", "network:a_default"}) {
		t.Errorf("stack a = %v", got)
	}
	none, err := inventory.ListStack(t.Context(), f, "missing")
	if err != nil || none.Name != "missing" || len(none.Objects()) != 0 {
		t.Errorf("missing stack = %+v, %v", none, err)
	}
}
