package objcmd

import (
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// The rows a watch prints one at a time line up under the list's header: every column starts
// where the header's does, until a wider cell widens it.
func TestWatchedEventsLineUp(t *testing.T) {
	now := time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)
	ev := func(reason, name, msg string) v1alpha1.Event {
		return v1alpha1.Event{Object: v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: name}, Type: v1alpha1.EventNormal,
			Reason: reason, Message: msg, Count: 1, FirstTimestamp: now, LastTimestamp: now}
	}
	var b strings.Builder
	table := &eventTable{}
	table.print(&b, []v1alpha1.Event{ev("Resolved", "demo-pr1", "head resolved")}, now, true)
	table.print(&b, []v1alpha1.Event{ev("Check", "demo-pr1", "check healthz passed")}, now, false)
	table.print(&b, []v1alpha1.Event{ev("Verified", "demo-pr1", "the stack runs the head")}, now, false)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("printed:\n%s", b.String())
	}
	for _, col := range []string{"REASON", "OBJECT", "MESSAGE"} {
		at := strings.Index(lines[0], col)
		for _, l := range lines[1:] {
			if at >= len(l) || l[at-1] != ' ' || l[at] == ' ' {
				t.Errorf("column %s starts at %d, but this row does not:\n%s", col, at, b.String())
			}
		}
	}
}
