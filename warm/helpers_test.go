package warm_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
)

const probe = "swarmrun-probe:1"

func newStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "swarmrun.db"), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func create(t *testing.T, st *store.Store, objs ...v1alpha1.Object) {
	t.Helper()
	for _, o := range objs {
		if err := st.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
}

func getRecipe(t *testing.T, st *store.Store, name string) *v1alpha1.Recipe {
	t.Helper()
	rc := &v1alpha1.Recipe{}
	if err := st.Get(t.Context(), name, rc); err != nil {
		t.Fatal(err)
	}
	return rc
}

// reasons returns "Reason: message" of the events of an object.
func reasons(t *testing.T, st *store.Store, kind, name string) []string {
	t.Helper()
	evs, err := st.Events(t.Context(), kind, name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Reason+": "+e.Message)
	}
	return out
}

func hasPrefix(xs []string, prefix string) bool {
	return slices.ContainsFunc(xs, func(x string) bool { return len(x) >= len(prefix) && x[:len(prefix)] == prefix })
}

// fakeStacks is a StackDeployer that records deploys and makes the warm stack exist in the
// engine with the labels the real one must set.
type fakeStacks struct {
	engine deploy.Engine

	mu       sync.Mutex
	deployed []string // version per call
	fail     error
}

func (f *fakeStacks) DeployVersion(ctx context.Context, rc *v1alpha1.Recipe, version, commit, stack string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deployed = append(f.deployed, version)
	if f.fail != nil {
		return f.fail
	}
	st, err := inventory.ListStack(ctx, f.engine, stack)
	if err != nil || len(st.Services) > 0 {
		return err
	}
	return invtest.Create(ctx, f.engine, invtest.Stack{Name: stack, Services: 1, Network: true, Image: probe,
		Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelWarm: rc.Name, v1alpha1.LabelRole: v1alpha1.RoleWarm}})
}

func (f *fakeStacks) versions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.deployed)
}

func newBenchStore(b *testing.B) *store.Store {
	b.Helper()
	st, err := store.Open(filepath.Join(b.TempDir(), "swarmrun.db"), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st
}

func stackObjects(t *testing.T, e deploy.Engine, name string) []inventory.Object {
	t.Helper()
	st, err := inventory.ListStack(t.Context(), e, name)
	if err != nil {
		t.Fatal(err)
	}
	return st.Objects()
}
