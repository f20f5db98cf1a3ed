package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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

// TestEventsAreCapped: a long message (or reason) is kept cut on a rune boundary, marked, and
// still merges with its repeats.
func TestEventsAreCapped(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	if err := s.Create(ctx, testRun("a", "r")); err != nil {
		t.Fatal(err)
	}
	ref := v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: "a"}
	long := "xy" + strings.Repeat("é", 100_000) // two-byte runes from an even offset: the odd cut must move
	for range 2 {
		if err := s.RecordEvent(ctx, ref, v1alpha1.EventWarning, strings.Repeat("Reason", 100), long); err != nil {
			t.Fatal(err)
		}
	}
	events, err := s.Events(ctx, v1alpha1.KindTestRun, "a")
	if err != nil || len(events) != 1 {
		t.Fatalf("events = %+v, %v; want one, merged", events, err)
	}
	e := events[0]
	if e.Count != 2 {
		t.Errorf("count = %d, want the repeat merged", e.Count)
	}
	for field, got := range map[string]struct {
		s   string
		max int
	}{"message": {e.Message, store.MaxEventMessageBytes}, "reason": {e.Reason, store.MaxEventReasonBytes}} {
		if len(got.s) > got.max || len(got.s) < got.max-4-len(store.TruncatedMarker) || !strings.HasSuffix(got.s, store.TruncatedMarker) || !utf8.ValidString(got.s) {
			t.Errorf("%s: %d bytes, valid UTF-8 %t, ends %q; want at most %d, cut on a rune, marked", field, len(got.s), utf8.ValidString(got.s), got.s[max(0, len(got.s)-20):], got.max)
		}
	}
	if err := s.RecordEvent(ctx, ref, v1alpha1.EventNormal, "Short", "short"); err != nil {
		t.Fatal(err)
	}
	if events, _ := s.Events(ctx, v1alpha1.KindTestRun, "a"); events[1].Message != "short" {
		t.Errorf("a short message was changed: %q", events[1].Message)
	}
}
