package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

func createRecipe(t *testing.T, s *store.Store, name string) {
	t.Helper()
	rc := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: name}, Spec: v1alpha1.RecipeSpec{Source: v1alpha1.RecipeSource{URL: "/r"}}}
	if err := s.Create(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
}

func TestAllEventsListsEveryObjectsEventsOldestFirst(t *testing.T) {
	s, c := openStore(t, store.Options{})
	ctx := t.Context()
	for _, n := range []string{"a", "b"} {
		if err := s.Create(ctx, testRun(n, "r")); err != nil {
			t.Fatal(err)
		}
	}
	createRecipe(t, s, "r")
	record := func(kind, name, reason string) {
		t.Helper()
		if err := s.RecordEvent(ctx, v1alpha1.ObjectReference{Kind: kind, Name: name}, v1alpha1.EventNormal, reason, "m"); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Second)
	}
	record(v1alpha1.KindTestRun, "b", "First")
	record(v1alpha1.KindRecipe, "r", "Second")
	record(v1alpha1.KindTestRun, "a", "Third")
	record(v1alpha1.KindTestRun, "b", "Fourth")
	record(v1alpha1.KindTestRun, "b", "First") // a repeat moves it last

	reasons := func(events []v1alpha1.Event) string {
		var out []string
		for _, e := range events {
			out = append(out, e.Object.Name+":"+e.Reason)
		}
		return fmt.Sprint(out)
	}
	all, err := s.AllEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := reasons(all), "[r:Second a:Third b:Fourth b:First]"; got != want {
		t.Errorf("all events %s, want %s", got, want)
	}
}

func TestWatchEventsDeliversRecordedAndRepeatedEvents(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	for _, n := range []string{"a", "b"} {
		if err := s.Create(ctx, testRun(n, "r")); err != nil {
			t.Fatal(err)
		}
	}
	createRecipe(t, s, "a")
	all, err := s.WatchEvents(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	onlyA, err := s.WatchEvents(ctx, v1alpha1.KindTestRun, "a")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.WatchEvents(ctx, v1alpha1.KindTestRun, "")
	if err != nil {
		t.Fatal(err)
	}
	record := func(kind, name, reason string) {
		t.Helper()
		if err := s.RecordEvent(ctx, v1alpha1.ObjectReference{Kind: kind, Name: name}, v1alpha1.EventWarning, reason, "m"); err != nil {
			t.Fatal(err)
		}
	}
	record(v1alpha1.KindTestRun, "a", "Applied")
	record(v1alpha1.KindTestRun, "b", "Applied")
	record(v1alpha1.KindRecipe, "a", "Promoted")
	record(v1alpha1.KindTestRun, "a", "Applied")

	next := func(ch <-chan store.EventChange) string {
		t.Helper()
		select {
		case c, ok := <-ch:
			if !ok {
				return "closed"
			}
			return fmt.Sprintf("%s %s/%s %s x%d", c.Type, c.Event.Object.Kind, c.Event.Object.Name, c.Event.Reason, c.Event.Count)
		case <-time.After(5 * time.Second):
			return "nothing"
		}
	}
	for _, want := range []string{
		"ADDED TestRun/a Applied x1", "ADDED TestRun/b Applied x1", "ADDED Recipe/a Promoted x1", "MODIFIED TestRun/a Applied x2",
	} {
		if got := next(all); got != want {
			t.Errorf("every event: got %s, want %s", got, want)
		}
	}
	for _, want := range []string{"ADDED TestRun/a Applied x1", "MODIFIED TestRun/a Applied x2"} {
		if got := next(onlyA); got != want {
			t.Errorf("testrun a: got %s, want %s", got, want)
		}
	}
	for _, want := range []string{"ADDED TestRun/a Applied x1", "ADDED TestRun/b Applied x1", "MODIFIED TestRun/a Applied x2"} {
		if got := next(runs); got != want {
			t.Errorf("testruns: got %s, want %s", got, want)
		}
	}
	select {
	case c := <-onlyA:
		t.Errorf("testrun a's watch got another event: %+v", c)
	default:
	}
}

func TestWatchEventsEnds(t *testing.T) {
	s, _ := openStore(t, store.Options{WatchBuffer: 2})
	if err := s.Create(t.Context(), testRun("a", "r")); err != nil {
		t.Fatal(err)
	}
	ref := v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: "a"}

	// A watcher that falls behind is told to re-list, and its watch ends.
	slow, err := s.WatchEvents(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := s.RecordEvent(t.Context(), ref, v1alpha1.EventNormal, "Step", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	var types []store.EventType
	for c := range slow {
		types = append(types, c.Type)
	}
	if fmt.Sprint(types) != "[ADDED ADDED RELIST]" {
		t.Errorf("slow watcher got %v, want two events and RELIST", types)
	}

	// The end of the context closes the channel.
	ctx, cancel := context.WithCancel(t.Context())
	ch, err := s.WatchEvents(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if !closesEmpty(ch) {
		t.Error("an event after the context ended, or the channel still open 5s after")
	}

	// So does closing the store; a watch after that fails.
	ch, err = s.WatchEvents(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, ok := <-ch; ok {
		t.Error("an event after the store closed")
	}
	if _, err := s.WatchEvents(t.Context(), "", ""); err == nil {
		t.Error("watch on a closed store succeeded")
	}
	if _, err := s.WatchEvents(t.Context(), "Pod", ""); err == nil {
		t.Error("watch of an unknown kind succeeded")
	}
}

// closesEmpty reports whether ch closes within 5s without delivering anything.
func closesEmpty[T any](ch <-chan T) bool {
	select {
	case _, ok := <-ch:
		return !ok
	case <-time.After(5 * time.Second):
		return false
	}
}
