package controller

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// changes records what a StoreSource maps, and enqueues every object that SpecChanged.
type changes struct {
	mu   sync.Mutex
	seen []string
}

func (c *changes) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, s)
}

func (c *changes) has(s string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.seen, s)
}

func (c *changes) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = nil
}

func TestStoreSource(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rc := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: "a"}, Spec: v1alpha1.RecipeSpec{Source: v1alpha1.RecipeSource{URL: "/tmp/a"}}}
	rc.Default()
	tr := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: "run-a", Finalizers: []string{v1alpha1.FinalizerTeardown}},
		Spec: v1alpha1.TestRunSpec{Recipe: "a"}}
	tr.Default()
	for _, o := range []v1alpha1.Object{rc, tr} {
		if _, err := st.Apply(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	got := &changes{}
	src := StoreSource{Store: st, Kinds: []string{v1alpha1.KindTestRun, v1alpha1.KindRecipe},
		Map: func(_ context.Context, c Change) ([]Request, error) {
			what := "change"
			switch {
			case c.Listed:
				what = "listed"
			case c.Deleted:
				what = "deleted"
			case !c.SpecChanged():
				what = "status"
			}
			got.add(what + " " + c.New.GetObjectMeta().Name)
			return Self(Change.SpecChanged)(context.Background(), c)
		}}
	var enq changes
	done := make(chan error, 1)
	go func() { done <- src.Start(ctx, func(r Request) { enq.add(r.String()) }) }()
	eventually(t, "the listing maps both objects", func() bool { return got.has("listed a") && got.has("listed run-a") })
	eventually(t, "listed objects are enqueued", func() bool { return enq.has("TestRun/run-a") && enq.has("Recipe/a") })

	enq.reset()
	stored := &v1alpha1.TestRun{}
	if err := st.Get(ctx, "run-a", stored); err != nil {
		t.Fatal(err)
	}
	stored.Status.Level = 3
	if err := st.UpdateStatus(ctx, stored); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a status write is seen as one", func() bool { return got.has("status run-a") })
	if enq.has("TestRun/run-a") {
		t.Errorf("a status write woke its object")
	}

	rc.Spec.Source.URL = "/tmp/a2"
	if _, err := st.Apply(ctx, rc); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a spec change wakes its object", func() bool { return enq.has("Recipe/a") })

	if _, err := st.Delete(ctx, v1alpha1.KindTestRun, "run-a"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a deletion mark wakes its object", func() bool { return enq.has("TestRun/run-a") })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("source returned %v after cancel", err)
	}
}
