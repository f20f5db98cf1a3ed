package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// Writes made at once commit together, and one write's failure stays its own: among
// concurrent creates, status writes and conflicting updates, every write that succeeds is
// stored and watched in resourceVersion order, and every conflict fails alone.
func TestConcurrentWritesCommitTogetherAndFailAlone(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	stale := testRun("stale", "r")
	if err := s.Create(ctx, stale); err != nil {
		t.Fatal(err)
	}
	old := *stale
	stale.Spec.Head = "moved"
	if err := s.Update(ctx, stale); err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(ctx, v1alpha1.KindTestRun, s.ResourceVersion())
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		conflicts int
	)
	for i := range n {
		wg.Go(func() {
			if i%4 == 0 {
				// Updates with the stale resourceVersion: each conflicts, alone.
				o := old
				o.Spec.Head = fmt.Sprint(i)
				if err := s.Update(ctx, &o); errors.Is(err, store.ErrConflict) {
					mu.Lock()
					conflicts++
					mu.Unlock()
					return
				} else if err != nil {
					t.Error(err)
				}
				return
			}
			tr := testRun(fmt.Sprintf("run-%02d", i), "r")
			if err := s.Create(ctx, tr); err != nil {
				t.Error(err)
				return
			}
			tr.Status.Level = 3
			if err := s.UpdateStatus(ctx, tr); err != nil {
				t.Error(err)
			}
			if err := s.RecordEvent(ctx, v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: tr.Name}, v1alpha1.EventNormal, "Test", "x"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if conflicts != n/4 {
		t.Errorf("%d conflicts, want %d", conflicts, n/4)
	}
	objs, _, err := s.List(ctx, v1alpha1.KindTestRun)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1+n-n/4 {
		t.Errorf("%d objects stored, want %d", len(objs), 1+n-n/4)
	}
	for _, o := range objs {
		tr := o.(*v1alpha1.TestRun)
		if tr.Name != "stale" && tr.Status.Level != 3 {
			t.Errorf("%s: status write lost", tr.Name)
		}
		if tr.Name == "stale" && tr.Spec.Head != "moved" {
			t.Errorf("a conflicting update changed stale: head %q", tr.Spec.Head)
		}
	}
	// Two watch events per run (create, status), in resourceVersion order.
	var last uint64
	for range 2 * (n - n/4) {
		ev := <-ch
		var rv uint64
		fmt.Sscan(ev.Object.GetObjectMeta().ResourceVersion, &rv)
		if rv <= last {
			t.Fatalf("watch out of order: %d after %d", rv, last)
		}
		last = rv
	}
}
