package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// next receives one event or fails after a deadline.
func next(t *testing.T, ch <-chan store.WatchEvent) store.WatchEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no watch event within 5s")
	}
	return store.WatchEvent{}
}

func TestWatchDeliversChangesInOrder(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	ch, err := s.Watch(ctx, v1alpha1.KindTestRun, "")
	if err != nil {
		t.Fatal(err)
	}
	tr := testRun("a", "r")
	if err := s.Create(ctx, tr); err != nil {
		t.Fatal(err)
	}
	// A Recipe change is not for this watcher.
	if err := s.Create(ctx, &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: "r"}}); err != nil {
		t.Fatal(err)
	}
	tr.Status.Level = 1
	if err := s.UpdateStatus(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, v1alpha1.KindTestRun, "a"); err != nil {
		t.Fatal(err)
	}

	want := []struct {
		typ   store.EventType
		level int
	}{{store.Added, 0}, {store.Modified, 1}, {store.Deleted, 1}}
	prev := uint64(0)
	for _, w := range want {
		ev := next(t, ch)
		got, ok := ev.Object.(*v1alpha1.TestRun)
		if ev.Type != w.typ || !ok || got.Status.Level != w.level {
			t.Fatalf("event = %s %+v, want %s level %d", ev.Type, ev.Object, w.typ, w.level)
		}
		var rv uint64
		fmt.Sscan(got.ResourceVersion, &rv)
		if rv <= prev {
			t.Fatalf("resourceVersion %d after %d: out of order", rv, prev)
		}
		prev = rv
	}
}

func TestWatchFromListVersionMissesNothing(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	if err := s.Create(ctx, testRun("a", "r")); err != nil {
		t.Fatal(err)
	}
	_, rv, err := s.List(ctx, v1alpha1.KindTestRun)
	if err != nil {
		t.Fatal(err)
	}
	// Written between the list and the watch.
	if err := s.Create(ctx, testRun("b", "r")); err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(ctx, v1alpha1.KindTestRun, rv)
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Type != store.Added || ev.Object.GetObjectMeta().Name != "b" {
		t.Fatalf("first event = %s %v, want ADDED b", ev.Type, ev.Object)
	}
}

func TestWatchTooOldVersionRelists(t *testing.T) {
	s, _ := openStore(t, store.Options{History: 2})
	ctx := t.Context()
	for i := range 6 {
		if err := s.Create(ctx, testRun(fmt.Sprint("r", i), "r")); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := s.Watch(ctx, "", "1")
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Type != store.Relist {
		t.Fatalf("event = %s, want RELIST", ev.Type)
	}
	if _, ok := <-ch; ok {
		t.Fatal("watch still open after RELIST")
	}
}

// A watcher that does not read must not block writers; it is told to re-list.
func TestSlowWatcherDoesNotBlockWriters(t *testing.T) {
	s, _ := openStore(t, store.Options{WatchBuffer: 4})
	ctx := t.Context()
	ch, err := s.Watch(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for i := range 50 {
			if err := s.Create(ctx, testRun(fmt.Sprint("r", i), "r")); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("writers blocked by a slow watcher")
	}
	var got []store.EventType
	for ev := range ch {
		got = append(got, ev.Type)
	}
	if len(got) != 5 || got[4] != store.Relist {
		t.Fatalf("events = %v, want 4 ADDED then RELIST", got)
	}
}

func TestWatchEndsWithContext(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx, cancel := contextWithCancel(t)
	ch, err := s.Watch(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if !closesEmpty(ch) {
		t.Fatal("event after cancel, or watch not closed 5s after")
	}
}

func TestCloseEndsWatches(t *testing.T) {
	s, err := store.Open(t.TempDir()+"/store.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch; ok {
		t.Error("event after close")
	}
	if _, err := s.Watch(t.Context(), "", ""); err == nil {
		t.Error("watch on a closed store succeeded")
	}
}

// Concurrent writers: the watcher still sees every change once, in resourceVersion order.
func TestWatchOrderWithConcurrentWriters(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	ch, err := s.Watch(ctx, v1alpha1.KindTestRun, "")
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 25
	errc := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				if err := s.Create(ctx, testRun(fmt.Sprintf("w%d-%d", w, i), "r")); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range writers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	prev := uint64(0)
	for range writers * each {
		ev := next(t, ch)
		m := ev.Object.GetObjectMeta()
		var rv uint64
		fmt.Sscan(m.ResourceVersion, &rv)
		if ev.Type != store.Added || rv != prev+1 || seen[m.Name] {
			t.Fatalf("event %s %s rv %d after %d (seen before: %t)", ev.Type, m.Name, rv, prev, seen[m.Name])
		}
		seen[m.Name], prev = true, rv
	}
}
