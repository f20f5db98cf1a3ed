package warm_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
	"github.com/swarmrun/swarmrun/warm"
)

var listings = []string{"ServiceList", "NetworkList", "SecretList", "ConfigList", "VolumeList"}

type gcEnv struct {
	f  *fake.Fake
	st *store.Store
}

// newGCEnv returns a fake swarm whose objects were created an hour before now, and a store.
func newGCEnv(t *testing.T) *gcEnv {
	t.Helper()
	clk := fake.NewClock(now.Add(-time.Hour))
	return &gcEnv{f: fake.New(fake.Options{Now: clk.Now, Images: []string{probe}}), st: newStore(t)}
}

func (e *gcEnv) stack(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	if err := invtest.Create(t.Context(), e.f, invtest.Stack{Name: name, Labels: labels, Services: 2, Network: true, Secret: true, Image: probe}); err != nil {
		t.Fatal(err)
	}
}

func (e *gcEnv) collector(o warm.CollectorOptions) *warm.Collector {
	o.Engine, o.Objects = e.f, e.st
	o.Deployer = deploy.New(deploy.Options{Engine: e.f, PollInterval: time.Millisecond})
	o.Now = func() time.Time { return now }
	if o.Policy.Grace == 0 {
		o.Policy.Grace = 10 * time.Minute
	}
	return warm.NewCollector(o)
}

func (e *gcEnv) stacks(t *testing.T) []string {
	t.Helper()
	inv, err := inventory.List(t.Context(), e.f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range inv.StackNames() {
		if len(inv.Stacks[name].Services) > 0 {
			out = append(out, name)
		}
	}
	return out
}

func names(items []warm.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func TestPassRemovesStaleAndReportsTheRest(t *testing.T) {
	e := newGCEnv(t)
	nocanon := enrolled("nocanon")
	create(t, e.st, canonicalRecipe("keycloak"), nocanon, enrolled("legacy")) // adoption needs the Recipe
	e.stack(t, "run-gone", runLabels("r-gone"))
	e.stack(t, "warm-keycloak", warmLabels("keycloak"))
	e.stack(t, "warm-nocanon", warmLabels("nocanon"))
	e.stack(t, "warm-legacy", nil)
	e.stack(t, "demo", nil)
	c := e.collector(warm.CollectorOptions{})

	e.f.ResetCalls()
	dry, err := c.Pass(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range listings {
		if e.f.Calls(m) != 1 {
			t.Errorf("dry run: %s called %d times, want 1", m, e.f.Calls(m))
		}
	}
	if got := names(dry.Plan.Stale); !slices.Equal(got, []string{"run-gone", "warm-nocanon"}) {
		t.Errorf("stale = %v", got)
	}
	if got := names(dry.Plan.Unmanaged); !slices.Equal(got, []string{"warm-legacy"}) {
		t.Errorf("unmanaged = %v", got)
	}
	if len(dry.Removed) != 0 || len(e.stacks(t)) != 5 {
		t.Fatalf("a dry run removed something: %v, stacks %v", dry.Removed, e.stacks(t))
	}

	r, err := c.Pass(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(r.Removed); !slices.Equal(got, []string{"run-gone", "warm-nocanon"}) {
		t.Errorf("removed = %v", got)
	}
	if got := e.stacks(t); !slices.Equal(got, []string{"demo", "warm-keycloak", "warm-legacy"}) {
		t.Errorf("stacks left = %v", got)
	}
	if ev := reasons(t, e.st, v1alpha1.KindRecipe, "nocanon"); !hasPrefix(ev, "GarbageCollected: removed stale stack warm-nocanon: Recipe nocanon has no canonical record") {
		t.Errorf("recipe events = %v", ev)
	}

	// Adoption takes the unlabelled warm-looking stack, and never demo.
	c = e.collector(warm.CollectorOptions{Policy: warm.Policy{AdoptWarm: true}})
	if r, err = c.Pass(t.Context(), false); err != nil || !slices.Equal(names(r.Removed), []string{"warm-legacy"}) {
		t.Fatalf("adopting pass = %+v, %v", r, err)
	}
	if got := e.stacks(t); !slices.Equal(got, []string{"demo", "warm-keycloak"}) {
		t.Errorf("stacks left = %v", got)
	}
}

func TestPassCapsDeletionsAndRetriesFailures(t *testing.T) {
	e := newGCEnv(t)
	for _, n := range []string{"a", "b", "c"} {
		e.stack(t, "run-"+n, runLabels("r-"+n))
	}
	c := e.collector(warm.CollectorOptions{MaxDeletions: 2})
	boom := errors.New("engine says no")
	e.f.FailNext("ServiceRemove", boom)

	r, err := c.Pass(t.Context(), false)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the removal failure reported", err)
	}
	if len(r.Failed) != 1 || r.Failed[0].Item.Name != "run-a" || !strings.Contains(r.Failed[0].Error, "engine says no") {
		t.Errorf("failed = %+v", r.Failed)
	}
	if !slices.Equal(names(r.Removed), []string{"run-b"}) || !slices.Equal(names(r.Deferred), []string{"run-c"}) {
		t.Errorf("removed %v deferred %v", names(r.Removed), names(r.Deferred))
	}
	r, err = c.Pass(t.Context(), false)
	if err != nil || !slices.Equal(names(r.Removed), []string{"run-a", "run-c"}) {
		t.Fatalf("next pass = %v, %v: the failure and the deferred item go next", names(r.Removed), err)
	}
	if got := e.stacks(t); len(got) != 0 {
		t.Errorf("left = %v", got)
	}
}

func TestPassScope(t *testing.T) {
	e := newGCEnv(t)
	e.stack(t, "mine-1", runLabels("gone"))
	e.stack(t, "theirs-1", runLabels("gone"))
	c := e.collector(warm.CollectorOptions{Scope: func(n string) bool { return strings.HasPrefix(n, "mine-") }})
	r, err := c.Pass(t.Context(), false)
	if err != nil || !slices.Equal(names(r.Removed), []string{"mine-1"}) {
		t.Fatalf("pass = %v, %v", names(r.Removed), err)
	}
	if got := e.stacks(t); !slices.Equal(got, []string{"theirs-1"}) {
		t.Errorf("left = %v", got)
	}
}

func TestPassListingFailureRemovesNothing(t *testing.T) {
	e := newGCEnv(t)
	e.stack(t, "run-a", runLabels("gone"))
	e.f.FailNext("SecretList", errors.New("timeout"))
	if _, err := e.collector(warm.CollectorOptions{}).Pass(t.Context(), false); err == nil {
		t.Fatal("a failed listing must fail the pass, not pass for an empty swarm")
	}
	if e.f.Calls("ServiceRemove") != 0 {
		t.Error("removed after a failed listing")
	}
}

// TestPassRechecksOwnershipBeforeRemoving: an unlabelled service deployed into a stale stack's
// namespace between the listing and the removal stops the removal.
func TestPassRechecksOwnershipBeforeRemoving(t *testing.T) {
	e := newGCEnv(t)
	e.stack(t, "run-a", runLabels("gone"))
	c := e.collector(warm.CollectorOptions{})
	lists := 0
	e.f.SetHook("ServiceList", func(ctx context.Context, _ fake.Call) error {
		lists++
		if lists == 2 { // the recheck, after the pass's own listing
			spec := swarm.ServiceSpec{
				Annotations:  swarm.Annotations{Name: "run-a_theirs", Labels: map[string]string{deploy.LabelNamespace: "run-a"}},
				TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: probe}},
			}
			if _, err := e.f.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	r, err := c.Pass(t.Context(), false)
	if err == nil || len(r.Failed) != 1 || !strings.Contains(r.Failed[0].Error, "ownership changed since the listing") {
		t.Fatalf("pass = %+v, %v", r, err)
	}
	e.f.SetHook("ServiceList", nil)
	if got := e.stacks(t); !slices.Equal(got, []string{"run-a"}) {
		t.Errorf("stacks = %v", got)
	}
	// From now on the stack is mixed: reported, never removed.
	r, err = c.Pass(t.Context(), false)
	if err != nil || len(r.Removed) != 0 || !slices.Equal(names(r.Plan.Unmanaged), []string{"run-a"}) {
		t.Errorf("next pass = %+v, %v", r, err)
	}
}
