package reconcile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/recipe/recipetest"
)

// hostileRun runs the corpus case c, committed at url, as the head of a run on env e, and
// returns the finished run and how long it took.
func hostileRun(t *testing.T, e *fakeEnv, c recipetest.Case, url, commit string) (*v1alpha1.TestRun, time.Duration) {
	t.Helper()
	rc := newRecipe("hostile", url)
	tr := newTestRun("hostile-"+strings.ReplaceAll(c.Name, "_", "-"), "hostile", commit)
	tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall}
	e.apply(rc, tr)
	start := time.Now()
	got := e.reconcileDone(e.rec, tr.Name, steps)
	return got, time.Since(start)
}

// Acceptance 1 of issue 8, through the reconciler: every hostile head of testdata/hostile
// ends the run red at once with a final reason that names the file and key (or the service
// and rule), nothing of it is applied to the swarm, and nothing outside the run's checkout is
// read or written.
func TestHostileHeadsFailAtOnceAndTouchNothing(t *testing.T) {
	for _, c := range recipetest.Corpus(t, "../testdata/hostile") {
		if c.Stage == recipetest.StageIgnored {
			continue // docker drops those keys: the head deploys, without them
		}
		t.Run(c.Name, func(t *testing.T) {
			e := newFakeEnv(t)
			url, commit := c.Commit(t)
			top := filepath.Dir(e.dataDir)
			canary := filepath.Join(top, "canary.txt")
			if err := os.WriteFile(canary, []byte(recipetest.Canary), 0o600); err != nil {
				t.Fatal(err)
			}
			key, err := os.ReadFile(filepath.Join(e.dataDir, "secret.key"))
			if err != nil {
				t.Fatal(err)
			}
			// What is around the runs' directories must not change: the store and the runs'
			// own directories (checkouts, results) are the run's to write.
			before := recipetest.Snap(t, top, filepath.Join(e.dataDir, "runs"), filepath.Join(e.dataDir, "swarmrun.db"),
				filepath.Join(e.dataDir, "recipes"))
			got, took := hostileRun(t, e, c, url, commit)
			before.Unchanged(t)
			if took > 10*time.Second {
				t.Errorf("the run took %s to fail, want under 10s", took)
			}
			cond := condition(got, v1alpha1.ConditionSucceeded)
			want := v1alpha1.ReasonRenderFailed
			if c.Stage == recipetest.StagePolicy {
				want = v1alpha1.ReasonPolicyDenied
			}
			if cond.Status != v1alpha1.ConditionFalse || cond.Reason != want {
				t.Fatalf("Succeeded = %s %s: %s; want False %s", cond.Status, cond.Reason, cond.Message, want)
			}
			for _, r := range c.Refusal {
				if !strings.Contains(cond.Message, r) {
					t.Errorf("message %q does not say %q", cond.Message, r)
				}
			}
			if c.Rule != "" && !strings.Contains(cond.Message, "(rule "+c.Rule+")") {
				t.Errorf("message %q does not name rule %s", cond.Message, c.Rule)
			}
			for _, m := range []string{"ServiceCreate", "ServiceUpdate", "NetworkCreate", "SecretCreate", "ConfigCreate"} {
				if n := e.engine.Calls(m); n != 0 {
					t.Errorf("%s called %d times: something of a refused head was applied", m, n)
				}
			}
			status, _ := json.Marshal(got.Status)
			events, _ := e.store.Events(t.Context(), v1alpha1.KindTestRun, got.Name)
			evs, _ := json.Marshal(events)
			results, _ := os.ReadFile(filepath.Join(e.dataDir, "runs", got.Name, "results.json"))
			recipetest.NoCanary(t, "the run's status, events or results", status, evs, results)
			for _, b := range [][]byte{status, evs, results} {
				if strings.Contains(string(b), string(key)) {
					t.Errorf("the data dir's secret key leaked")
				}
			}
		})
	}
}
