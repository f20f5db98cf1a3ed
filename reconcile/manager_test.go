package reconcile

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// recorder collects what a source enqueues and what it reports as deleting.
type recorder struct {
	mu       sync.Mutex
	reqs     []string
	deleting []string
}

func (r *recorder) enqueue(req controller.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req.Name)
}

func (r *recorder) deleted(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deleting = append(r.deleting, name)
}

func (r *recorder) has(name string, deleting bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.reqs
	if deleting {
		list = r.deleting
	}
	for _, n := range list {
		if n == name {
			return true
		}
	}
	return false
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs, r.deleting = nil, nil
}

func TestStoreSource(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	apply := func(o v1alpha1.Object) {
		t.Helper()
		if _, err := st.Apply(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	apply(newRecipe("a", "/tmp/a"))
	apply(newRecipe("b", "/tmp/b"))
	tr := newTestRun("run-a", "a", "")
	tr.Finalizers = []string{v1alpha1.FinalizerTeardown}
	apply(tr)
	apply(newTestRun("run-b", "b", ""))

	rec := &recorder{}
	done := make(chan error, 1)
	go func() { done <- storeSource(st, rec.deleted).Start(ctx, rec.enqueue) }()
	wait := func(name string, deleting bool, what string) {
		t.Helper()
		swarmtest.Eventually(t, 5*time.Second, 5*time.Millisecond, func() bool { return rec.has(name, deleting) }, "%s", what)
	}
	wait("run-a", false, "initial listing enqueues run-a")
	wait("run-b", false, "initial listing enqueues run-b")

	rec.reset()
	rc := newRecipe("a", "/tmp/a2")
	apply(rc)
	wait("run-a", false, "a Recipe change wakes its TestRuns")
	if rec.has("run-b", false) {
		t.Errorf("a change of recipe a woke run-b")
	}

	if _, err := st.Delete(ctx, v1alpha1.KindTestRun, "run-a"); err != nil {
		t.Fatal(err)
	}
	wait("run-a", true, "a TestRun marked for deletion is reported")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("source returned %v after cancel", err)
	}
}
