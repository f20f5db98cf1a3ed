package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithCancel(t.Context())
}

func TestEventsAreMergedAndBounded(t *testing.T) {
	s, c := openStore(t, store.Options{EventsPerObject: 3})
	ctx := t.Context()
	tr := testRun("a", "r")
	if err := s.Create(ctx, tr); err != nil {
		t.Fatal(err)
	}
	ref := v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: "a"}
	record := func(reason, msg string) {
		t.Helper()
		if err := s.RecordEvent(ctx, ref, v1alpha1.EventNormal, reason, msg); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Second)
	}
	first := c.Now()
	record("Deploying", "base")
	record("Deploying", "base")
	record("Deploying", "base")
	events, err := s.Events(ctx, v1alpha1.KindTestRun, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 {
		t.Fatalf("events = %+v, want one merged", events)
	}
	e := events[0]
	if e.Count != 3 || !e.FirstTimestamp.Equal(first) || !e.LastTimestamp.Equal(first.Add(2*time.Second)) || e.Object.UID != tr.UID {
		t.Errorf("merged event = %+v", e)
	}

	for i := range 4 {
		record("Step", fmt.Sprint(i))
	}
	events, err = s.Events(ctx, v1alpha1.KindTestRun, "a")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range events {
		msgs = append(msgs, e.Message)
	}
	if fmt.Sprint(msgs) != "[1 2 3]" {
		t.Errorf("kept = %v, want the newest three [1 2 3]", msgs)
	}

	// Events do not touch the object.
	var got v1alpha1.TestRun
	if err := s.Get(ctx, "a", &got); err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion != tr.ResourceVersion {
		t.Errorf("event changed resourceVersion %s -> %s", tr.ResourceVersion, got.ResourceVersion)
	}
}
