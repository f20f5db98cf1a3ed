package statuspage

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/internal/mask"
	"github.com/swarmrun/swarmrun/reconcile/results"
	"github.com/swarmrun/swarmrun/warm"
)

// Env values of the fixture: none may ever show on the page or in a file it serves.
var fixtureEnvValues = []string{"hunter2-recipe-secret", "recipe-plain-value", "tr-secret-token", "tr-plain-value"}

// fixture is a store with what the page shows, as the controllers would have left it:
//
//	discourse (warm; canonical 0.2.0+2, warm stack ready; a source URL with a token)
//	  discourse-main   target branch tip, green, level 5, results written
//	  discourse-old    head main, red, level 2, finished before discourse-main
//	  discourse-pr4    head pr4, red, level 1, finished last (not on the target branch)
//	  discourse-next   running
//	keycloak (not warm, no runs)
//
// It returns the page over the store and the data dir, and the page's clock.
func fixture(t testing.TB) (*Page, *store.Store, string, time.Time) {
	t.Helper()
	now := time.Date(2026, 6, 17, 12, 0, 0, 0, time.UTC)
	dataDir := t.TempDir()
	// Objects are created a minute apart, from five hours before now.
	var mu sync.Mutex
	created := now.Add(-5 * time.Hour)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		created = created.Add(time.Minute)
		return created
	}
	st, err := store.Open(filepath.Join(dataDir, "swarmrun.db"), store.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()

	rc := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: "discourse"}, Spec: v1alpha1.RecipeSpec{
		Source: v1alpha1.RecipeSource{URL: "https://bot:s3cr3t-t0ken@git.example.org/recipes/discourse.git"},
		Env:    map[string]string{"DB_PASSWORD": "hunter2-recipe-secret", "DOMAIN": "recipe-plain-value"},
		Warm:   true,
	}}
	kc := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: "keycloak"}, Spec: v1alpha1.RecipeSpec{
		Source: v1alpha1.RecipeSource{URL: "/srv/recipes/keycloak", TargetBranch: "develop"}}}
	for _, r := range []*v1alpha1.Recipe{rc, kc} {
		r.Default()
		if err := st.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	rc.Status.Canonical = &v1alpha1.Canonical{Version: "0.2.0+2", Commit: "0a1b2c3d4e5f60718293", Status: warm.CanonicalStatus,
		Run: "discourse-main", PromotedAt: v1alpha1.Time{Time: now.Add(-time.Hour)}}
	rc.Status.WarmStack = &v1alpha1.WarmStack{Name: "warm-discourse", Version: "0.2.0+2", Commit: "0a1b2c3d4e5f60718293", Ready: true}
	if err := st.UpdateStatus(ctx, rc); err != nil {
		t.Fatal(err)
	}

	run := func(name, head string, level int, succeeded metav1.ConditionStatus, reason, msg string, completed time.Duration) {
		t.Helper()
		tr := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: name}, Spec: v1alpha1.TestRunSpec{Recipe: "discourse", Head: head,
			Env: map[string]string{"API_TOKEN": "tr-secret-token", "MODE": "tr-plain-value"}}}
		tr.Default()
		if err := st.Create(ctx, tr); err != nil {
			t.Fatal(err)
		}
		started := v1alpha1.Time{Time: now.Add(-4 * time.Hour)}
		tr.Status = v1alpha1.TestRunStatus{
			Stack:     name + "-0a1b2c",
			Head:      &v1alpha1.HeadStatus{Ref: orMain(head), Commit: "feedfacecafebeef0123"},
			Base:      &v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.1.0+1", Commit: "0123456789abcdef", Reason: "last green"},
			Level:     level,
			StartedAt: &started,
			Conditions: []v1alpha1.Condition{
				{Type: v1alpha1.ConditionResolved, Status: v1alpha1.ConditionTrue, Reason: "Resolved", Message: "head resolved",
					LastTransitionTime: started},
				{Type: v1alpha1.ConditionSucceeded, Status: succeeded, Reason: reason, Message: msg, LastTransitionTime: started},
			},
		}
		if succeeded != v1alpha1.ConditionUnknown {
			done := v1alpha1.Time{Time: now.Add(-completed)}
			tr.Status.CompletedAt = &done
			if _, err := results.Write(results.Dir(dataDir, name), tr, mask.New(), now); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.UpdateStatus(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	run("discourse-main", "", 5, v1alpha1.ConditionTrue, v1alpha1.ReasonSucceeded, "head feedface passed (level 5/5)", 2*time.Hour)
	run("discourse-old", "main", 2, v1alpha1.ConditionFalse, v1alpha1.ReasonCheckFailed, "tiers failed: backup (level 2/5)", 3*time.Hour)
	run("discourse-pr4", "pr4", 1, v1alpha1.ConditionFalse, v1alpha1.ReasonCheckFailed,
		"check \x1b[31mhttp\x1b[0m failed (level 1/5)", 30*time.Minute)
	run("discourse-next", "", 0, v1alpha1.ConditionUnknown, v1alpha1.ReasonProgressing, "run started", 0)

	gc := NewGCLog(0, func() time.Time { return now.Add(-10 * time.Minute) })
	gc.Record(&warm.Report{
		Removed: []warm.Item{{Kind: warm.KindStack, Name: "gone-pr1-aaaaaa", Why: "testrun gone-pr1 no longer exists"}},
		Failed:  []warm.Failure{{Item: warm.Item{Kind: "secret", Name: "gone-pr1-aaaaaa_db_v1", Why: "orphaned"}, Error: "secret is in use"}},
	})
	p, err := New(Options{Store: st, DataDir: dataDir, GC: gc, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return p, st, dataDir, now
}

func orMain(head string) string {
	if head == "" {
		return "main"
	}
	return head
}
