package statuspage

import (
	"fmt"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/warm"
)

func TestTargetBranchRun(t *testing.T) {
	t0 := time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)
	run := func(name, recipe, head string, finishedAfter time.Duration) *v1alpha1.TestRun {
		tr := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: name, CreationTimestamp: t0}, Spec: v1alpha1.TestRunSpec{Recipe: recipe, Head: head}}
		status := v1alpha1.ConditionUnknown
		if finishedAfter > 0 {
			status = v1alpha1.ConditionTrue
			done := v1alpha1.Time{Time: t0.Add(finishedAfter)}
			tr.Status.CompletedAt = &done
		}
		tr.Status.Conditions = []v1alpha1.Condition{{Type: v1alpha1.ConditionSucceeded, Status: status}}
		return tr
	}
	recipe := func(branch string) *v1alpha1.Recipe {
		return &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: "app"}, Spec: v1alpha1.RecipeSpec{Source: v1alpha1.RecipeSource{TargetBranch: branch}}}
	}
	for _, tt := range []struct {
		name   string
		branch string
		runs   []*v1alpha1.TestRun
		want   string
	}{
		{"none", "", nil, ""},
		{"no explicit head is the target branch tip", "", []*v1alpha1.TestRun{run("a", "app", "", time.Hour)}, "a"},
		{"main and master are the default target", "", []*v1alpha1.TestRun{run("a", "app", "main", time.Hour), run("b", "app", "master", 2*time.Hour)}, "b"},
		{"an explicit target branch replaces them", "develop", []*v1alpha1.TestRun{run("a", "app", "main", 2*time.Hour), run("b", "app", "develop", time.Hour)}, "b"},
		{"pull requests, tags and commits do not count", "", []*v1alpha1.TestRun{
			run("a", "app", "", time.Hour), run("pr", "app", "pr4", 2*time.Hour), run("tag", "app", "0.2.0+2", 3*time.Hour),
			run("sha", "app", "0123abcd", 4*time.Hour)}, "a"},
		{"running runs do not count", "", []*v1alpha1.TestRun{run("a", "app", "", time.Hour), run("b", "app", "", 0)}, "a"},
		{"other recipes do not count", "", []*v1alpha1.TestRun{run("a", "other", "", time.Hour)}, ""},
		{"newest by completion, whatever the order", "", []*v1alpha1.TestRun{
			run("late", "app", "", 3*time.Hour), run("early", "app", "", time.Hour), run("mid", "app", "", 2*time.Hour)}, "late"},
		{"ties go to the later name", "", []*v1alpha1.TestRun{run("b", "app", "", time.Hour), run("a", "app", "", time.Hour)}, "b"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if tr := TargetBranchRun(recipe(tt.branch), tt.runs); tr != nil {
				got = tr.Name
			}
			if got != tt.want {
				t.Errorf("TargetBranchRun = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBadgeColourFollowsLevel(t *testing.T) {
	seen := map[string]bool{}
	for level := range 6 {
		msg, colour := badgeMessage(&v1alpha1.TestRun{Status: v1alpha1.TestRunStatus{Level: level}})
		if msg != fmt.Sprintf("level %d/5", level) || seen[colour] || colour == greyColour {
			t.Errorf("level %d: %q in %s", level, msg, colour)
		}
		seen[colour] = true
	}
	if msg, colour := badgeMessage(nil); msg != "no runs" || colour != greyColour {
		t.Errorf("no run: %q in %s", msg, colour)
	}
}

func TestGCLogKeepsTheNewestRemovals(t *testing.T) {
	now := time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)
	l := NewGCLog(3, func() time.Time { return now })
	for i := range 4 {
		now = now.Add(time.Minute)
		l.Record(&warm.Report{Removed: []warm.Item{{Kind: warm.KindStack, Name: fmt.Sprint("s", i)}}})
	}
	l.Record(&warm.Report{DryRun: true, Removed: []warm.Item{{Kind: warm.KindStack, Name: "dry"}}})
	l.Record(nil)
	got := l.Entries()
	if len(got) != 3 || got[0].Name != "s3" || got[2].Name != "s1" || !got[0].At.Equal(now) {
		t.Errorf("entries = %+v, want s3, s2, s1", got)
	}
	var none *GCLog
	none.Record(&warm.Report{Removed: []warm.Item{{Name: "x"}}})
	if none.Entries() != nil {
		t.Error("a nil log has entries")
	}
}
