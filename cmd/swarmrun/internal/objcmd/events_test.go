package objcmd_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/internal/testkit"
)

// eventsFixture serves a store with a TestRun and a Recipe that have events.
func eventsFixture(t *testing.T) (string, *store.Store) {
	t.Helper()
	dir, st := serveStore(t)
	ctx := t.Context()
	if err := st.Create(ctx, &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo-pr1"}, Spec: v1alpha1.TestRunSpec{Recipe: "demo"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx, &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo"}, Spec: v1alpha1.RecipeSpec{Source: v1alpha1.RecipeSource{URL: "/r"}}}); err != nil {
		t.Fatal(err)
	}
	record(t, st, v1alpha1.KindTestRun, "demo-pr1", v1alpha1.EventNormal, "Applied", "base applied: 2 created")
	record(t, st, v1alpha1.KindRecipe, "demo", v1alpha1.EventNormal, "Promoted", "0.2.0+2 is the canonical")
	record(t, st, v1alpha1.KindTestRun, "demo-pr1", v1alpha1.EventWarning, "CheckFailed", "check \x1b[31mhttp\x1b[0m failed\nsecond line")
	record(t, st, v1alpha1.KindTestRun, "demo-pr1", v1alpha1.EventNormal, "Applied", "base applied: 2 created")
	return dir, st
}

func record(t *testing.T, st *store.Store, kind, name string, typ v1alpha1.EventType, reason, msg string) {
	t.Helper()
	if err := st.RecordEvent(t.Context(), v1alpha1.ObjectReference{Kind: kind, Name: name}, typ, reason, msg); err != nil {
		t.Fatal(err)
	}
}

// lines splits output into rows with their columns' runs of spaces squeezed.
func lines(out string) []string {
	var rows []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		rows = append(rows, strings.Join(strings.Fields(l), " "))
	}
	return rows
}

func TestEventsListsEveryObjectsEventsNewestLast(t *testing.T) {
	dir, _ := eventsFixture(t)
	out, errOut, code := run(t, dir, "events")
	if code != 0 {
		t.Fatalf("events: exit %d\n%s", code, errOut)
	}
	want := []string{
		"LAST SEEN TYPE REASON OBJECT MESSAGE",
		"0s Normal Promoted recipe/demo 0.2.0+2 is the canonical",
		`0s Warning CheckFailed testrun/demo-pr1 check \x1b[31mhttp\x1b[0m failed second line`,
		"0s (x2 over 0s) Normal Applied testrun/demo-pr1 base applied: 2 created",
	}
	if got := lines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(out, "\x1b") {
		t.Error("events printed a raw escape character")
	}
}

func TestEventsFor(t *testing.T) {
	dir, _ := eventsFixture(t)
	for _, tt := range []struct {
		args []string
		code int
		want []string // the REASON column, in order
		err  string
	}{
		{[]string{"--for", "testrun/demo-pr1"}, 0, []string{"CheckFailed", "Applied"}, ""},
		{[]string{"--for", "tr/demo-pr1"}, 0, []string{"CheckFailed", "Applied"}, ""},
		{[]string{"--for", "recipe/demo"}, 0, []string{"Promoted"}, ""},
		{[]string{"--for", "testrun/nope"}, cli.ExitFailed, nil, "not found"},
		{[]string{"--for", "pod/demo"}, cli.ExitInvalid, nil, "pod"},
		{[]string{"--for", "demo-pr1"}, cli.ExitInvalid, nil, "want testrun/NAME, recipe/NAME or repository/NAME"},
		{[]string{"--for", "testrun/"}, cli.ExitInvalid, nil, "want testrun/NAME, recipe/NAME or repository/NAME"},
	} {
		out, errOut, code := run(t, dir, append([]string{"events"}, tt.args...)...)
		if code != tt.code || !strings.Contains(errOut, tt.err) {
			t.Errorf("events %v: exit %d (want %d), stderr %q (want %q)", tt.args, code, tt.code, errOut, tt.err)
			continue
		}
		if tt.code != 0 {
			continue
		}
		rows := lines(out)[1:]
		if len(rows) != len(tt.want) {
			t.Errorf("events %v: rows\n%s\nwant reasons %v", tt.args, strings.Join(rows, "\n"), tt.want)
			continue
		}
		for i, r := range tt.want {
			if !strings.Contains(rows[i], " "+r+" ") {
				t.Errorf("events %v: row %d %q, want reason %s", tt.args, i, rows[i], r)
			}
		}
	}
}

func TestEventsWatchFollowsNewEventsOnce(t *testing.T) {
	for _, args := range [][]string{{"events", "-w"}, {"events", "-w", "--for", "testrun/demo-pr1"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir, st := eventsFixture(t)
			ctx, cancel := context.WithCancel(t.Context())
			var out, errOut syncBuffer
			done := make(chan error, 1)
			go func() { done <- command(ctx, dir, strings.NewReader(""), &out, &errOut, args...) }()
			testkit.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
				return strings.Contains(out.String(), "base applied")
			}, "the list never came")
			listed := len(lines(out.String()))

			// A new event, a repeat of a listed one, one on another object, and a last one.
			record(t, st, v1alpha1.KindTestRun, "demo-pr1", v1alpha1.EventNormal, "HeadReady", "head converged")
			record(t, st, v1alpha1.KindTestRun, "demo-pr1", v1alpha1.EventNormal, "Applied", "base applied: 2 created")
			record(t, st, v1alpha1.KindRecipe, "demo", v1alpha1.EventNormal, "WarmReady", "warm-demo converged")
			record(t, st, v1alpha1.KindTestRun, "demo-pr1", v1alpha1.EventNormal, "Pruned", "nothing to prune")
			testkit.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
				return strings.Contains(out.String(), "nothing to prune")
			}, "the last event never came")
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("events -w: %v\n%s", err, errOut.String())
			}
			want := []string{
				"0s Normal HeadReady testrun/demo-pr1 head converged",
				"0s (x3 over 0s) Normal Applied testrun/demo-pr1 base applied: 2 created",
				"0s Normal WarmReady recipe/demo warm-demo converged",
				"0s Normal Pruned testrun/demo-pr1 nothing to prune",
			}
			if len(args) > 2 {
				want = slices.Delete(want, 2, 3) // the recipe's event is not demo-pr1's
			}
			if followed := lines(out.String())[listed:]; !slices.Equal(followed, want) {
				t.Errorf("followed:\n%s\nwant\n%s", strings.Join(followed, "\n"), strings.Join(want, "\n"))
			}
			if strings.Count(out.String(), "LAST SEEN") != 1 {
				t.Errorf("the header is printed %d times", strings.Count(out.String(), "LAST SEEN"))
			}
		})
	}
}
