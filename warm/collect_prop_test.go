package warm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"pgregory.net/rapid"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
	"github.com/swarmrun/swarmrun/warm"
)

// memObjects is a read-only object source for property tests, where a store file per case
// would cost more than the case.
type memObjects struct {
	recipes []*v1alpha1.Recipe
	runs    []*v1alpha1.TestRun
}

func (m *memObjects) Get(_ context.Context, name string, into v1alpha1.Object) error {
	return fmt.Errorf("get %s: %w", name, store.ErrNotFound)
}

func (m *memObjects) List(_ context.Context, kind string) ([]v1alpha1.Object, string, error) {
	var out []v1alpha1.Object
	if kind == v1alpha1.KindRecipe {
		for _, r := range m.recipes {
			out = append(out, r)
		}
	} else {
		for _, r := range m.runs {
			out = append(out, r)
		}
	}
	return out, "1", nil
}

func (m *memObjects) Update(context.Context, v1alpha1.Object) error       { return nil }
func (m *memObjects) UpdateStatus(context.Context, v1alpha1.Object) error { return nil }
func (m *memObjects) RecordEvent(context.Context, v1alpha1.ObjectReference, v1alpha1.EventType, string, string) error {
	return nil
}

// TestPassNeverRemovesUnownedObjects is acceptance 5 end to end: random stacks with random
// labels on the fake engine, a real removing pass, and afterwards every object without
// swarmrun's managed-by label is still there, unless its stack was adopted under the rule.
func TestPassNeverRemovesUnownedObjects(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := fake.New(fake.Options{Now: fake.NewClock(now.Add(-2 * time.Hour)).Now, Images: []string{probe}})
		ctx := context.Background()
		seen := map[string]bool{}
		for i := range rapid.IntRange(1, 5).Draw(t, "stacks") {
			name := rapid.SampledFrom(poolStacks).Draw(t, fmt.Sprintf("stack%d", i))
			if name == "warm-" || seen[name] {
				continue // not a valid name for the engine's objects, or drawn twice
			}
			seen[name] = true
			s := invtest.Stack{Name: name, Labels: genLabels(t, name), Image: probe,
				Services: rapid.IntRange(0, 2).Draw(t, name+".services"),
				Network:  rapid.Bool().Draw(t, name+".network"), Secret: rapid.Bool().Draw(t, name+".secret")}
			if err := invtest.Create(ctx, f, s); err != nil {
				t.Fatal(err)
			}
			if rapid.Bool().Draw(t, name+".foreign") {
				// Someone else's service in the same namespace, unlabelled.
				spec := swarm.ServiceSpec{
					Annotations:  swarm.Annotations{Name: name + "_foreign", Labels: map[string]string{deploy.LabelNamespace: name}},
					TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: probe}},
				}
				if _, err := f.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i := range rapid.IntRange(0, 3).Draw(t, "loose") {
			name := fmt.Sprintf("loose%d", i)
			if _, err := invtest.Secret(ctx, f, name, genLabels(t, name)); err != nil {
				t.Fatal(err)
			}
		}
		before, err := inventory.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		objs := &memObjects{recipes: genRecipes(t), runs: genRuns(t)}
		adopt := rapid.Bool().Draw(t, "adopt")
		c := warm.NewCollector(warm.CollectorOptions{Engine: f, Objects: objs, MaxDeletions: 100,
			Deployer: deploy.New(deploy.Options{Engine: f, PollInterval: time.Millisecond}),
			Policy:   warm.Policy{AdoptWarm: adopt, Grace: time.Minute}, Now: func() time.Time { return now }})
		r, err := c.Pass(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		adopted := map[string]bool{}
		for _, it := range r.Removed {
			if it.Adopted {
				adopted[it.Stack] = true
			}
		}
		after, err := inventory.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		left := map[string]bool{}
		for _, st := range after.Stacks {
			for _, o := range st.Objects() {
				left[o.Kind+"/"+o.ID] = true
			}
		}
		for _, o := range after.Loose {
			left[o.Kind+"/"+o.ID] = true
		}
		check := func(o inventory.Object) {
			if left[o.Kind+"/"+o.ID] || inventory.IsManaged(o.Labels) || o.Kind == inventory.KindVolume {
				return
			}
			if adopt && adopted[o.Stack] && strings.HasPrefix(o.Stack, "warm-") {
				return
			}
			t.Fatalf("unlabelled %s %s of stack %q was removed (labels %v); removed %v", o.Kind, o.Name, o.Stack, o.Labels, names(r.Removed))
		}
		for _, st := range before.Stacks {
			for _, o := range st.Objects() {
				check(o)
			}
		}
		for _, o := range before.Loose {
			check(o)
		}
	})
}
