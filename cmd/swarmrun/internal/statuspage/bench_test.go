package statuspage

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// BenchmarkPage renders / over a store of 20 recipes and 1,000 finished runs (the page lists
// the newest DefaultMaxRuns), as a busy server's page would be.
func BenchmarkPage(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "swarmrun.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := b.Context()
	now := time.Now()
	for i := range 20 {
		rc := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: fmt.Sprintf("recipe-%02d", i)},
			Spec: v1alpha1.RecipeSpec{Source: v1alpha1.RecipeSource{URL: "/srv/r"}}}
		if err := st.Create(ctx, rc); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 1000 {
		tr := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: fmt.Sprintf("run-%04d", i)},
			Spec: v1alpha1.TestRunSpec{Recipe: fmt.Sprintf("recipe-%02d", i%20)}}
		if err := st.Create(ctx, tr); err != nil {
			b.Fatal(err)
		}
		at := v1alpha1.Time{Time: now.Add(-time.Duration(i) * time.Minute)}
		tr.Status.Level, tr.Status.StartedAt, tr.Status.CompletedAt = i%6, &at, &at
		for _, c := range []string{v1alpha1.ConditionResolved, v1alpha1.ConditionBaseReady, v1alpha1.ConditionHeadReady,
			v1alpha1.ConditionPruned, v1alpha1.ConditionVerified, v1alpha1.ConditionSucceeded} {
			tr.Status.Conditions = append(tr.Status.Conditions, v1alpha1.Condition{Type: c, Status: v1alpha1.ConditionTrue,
				Reason: "Done", Message: "a message of a typical length for a condition of a run", LastTransitionTime: at})
		}
		if err := st.UpdateStatus(ctx, tr); err != nil {
			b.Fatal(err)
		}
	}
	p, err := New(Options{Store: st, DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	var size int
	for b.Loop() {
		w := httptest.NewRecorder()
		p.index(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("GET /: %d", w.Code)
		}
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size)/1024, "page-KiB")
}
