package warm_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
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

func newBenchStore(b *testing.B) *store.Store {
	b.Helper()
	st, err := store.Open(filepath.Join(b.TempDir(), "swarmrun.db"), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st
}
