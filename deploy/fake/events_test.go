package fake_test

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// TestEventsNeverBlockTheEngine: a subscriber that reads nothing does not stall writers, and
// gets every event in order once it reads.
func TestEventsNeverBlockTheEngine(t *testing.T) {
	f, _ := newClocked(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	msgs, errs := f.Events(ctx, events.ListOptions{Filters: filters.NewArgs(filters.Arg("type", "service"), filters.Arg("event", "create"))})
	var ids []string
	for i := range 50 {
		ids = append(ids, mustCreate(t, f, svcSpec("s"+string(rune('a'+i%26))+string(rune('a'+i/26)), probe1)))
	}
	for _, id := range ids {
		select {
		case m := <-msgs:
			if m.Actor.ID != id || m.Action != events.ActionCreate {
				t.Fatalf("event %+v, want create of %s", m, id)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event for %s", id)
		}
	}
	cancel()
	select {
	case err := <-errs:
		if err != context.Canceled {
			t.Errorf("stream end: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("stream did not end")
	}
}

func TestEventsOfARollout(t *testing.T) {
	f, clk := newClocked(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	msgs, _ := f.Events(ctx, events.ListOptions{Filters: filters.NewArgs(filters.Arg("type", "service"))})
	id := mustCreate(t, f, svcSpec("web", probe1))
	s := mustInspect(t, f, id)
	s.Spec.TaskTemplate.ContainerSpec.Image = probe2
	mustUpdate(t, f, s)
	clk.Advance(5 * time.Second)
	mustInspect(t, f, id)
	want := []map[string]string{
		{"name": "web"},
		{"name": "web", "image.old": probe1, "image.new": probe2},
		{"name": "web", "updatestate.new": "updating"},
		{"name": "web", "updatestate.old": "updating", "updatestate.new": "completed"},
	}
	for i, w := range want {
		select {
		case m := <-msgs:
			for k, v := range w {
				if m.Actor.Attributes[k] != v {
					t.Errorf("event %d: %v, want %v", i, m.Actor.Attributes, w)
					break
				}
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d missing", i)
		}
	}
}
