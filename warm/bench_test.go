package warm_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
	"github.com/swarmrun/swarmrun/warm"
)

// benchSwarm fills a fake with 200 stacks of 2 services each (replicas 0) and a network:
// 100 run stacks (half of their TestRuns still exist), 50 warm stacks (half with a canonical
// record) and 50 unlabelled stacks, 10 of them warm-looking.
func benchSwarm(b *testing.B) (*fake.Fake, *gcEnv) {
	b.Helper()
	clk := fake.NewClock(now.Add(-time.Hour))
	f := fake.New(fake.Options{Now: clk.Now, Images: []string{probe}})
	st := newBenchStore(b)
	e := &gcEnv{f: f, st: st}
	create := func(s invtest.Stack) {
		s.Image, s.Services, s.Network = probe, 2, true
		if err := invtest.Create(b.Context(), f, s); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 100 {
		run := fmt.Sprintf("r%03d", i)
		create(invtest.Stack{Name: "run-" + run, Labels: runLabels(run)})
		if i%2 == 0 {
			tr := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: run}, Spec: v1alpha1.TestRunSpec{Recipe: "r"}}
			if err := st.Create(b.Context(), tr); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range 50 {
		rc := fmt.Sprintf("rc%02d", i)
		create(invtest.Stack{Name: "warm-" + rc, Labels: warmLabels(rc)})
		r := enrolled(rc)
		if i%2 == 0 {
			r.Status.Canonical = &v1alpha1.Canonical{Version: "1.0.0+1", Commit: c081}
		}
		if err := st.Create(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 50 {
		name := fmt.Sprintf("other%02d", i)
		if i < 10 {
			name = fmt.Sprintf("warm-legacy%02d", i)
		}
		create(invtest.Stack{Name: name})
	}
	return f, e
}

// BenchmarkClassify200Stacks measures a dry-run GC pass over 200 stacks of 2 services: the
// engine calls it makes (one listing per object type), its wall time and its allocations.
func BenchmarkClassify200Stacks(b *testing.B) {
	f, e := benchSwarm(b)
	c := e.collector(warm.CollectorOptions{})
	var r *warm.Report
	f.ResetCalls()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var err error
		if r, err = c.Pass(b.Context(), true); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	calls := 0
	for _, m := range listings {
		calls += f.Calls(m)
	}
	b.ReportMetric(float64(calls)/float64(b.N), "engine-calls/op")
	if calls != len(listings)*b.N || len(r.Plan.Stale) != 50+25 || len(r.Plan.Unmanaged) != 10 || r.Plan.Ignored != 40 {
		b.Fatalf("calls %d for %d passes; stale %d unmanaged %d ignored %d", calls, b.N, len(r.Plan.Stale), len(r.Plan.Unmanaged), r.Plan.Ignored)
	}
}

// BenchmarkClassifyOnly200Stacks is the pure classification of the same swarm, without the
// listings.
func BenchmarkClassifyOnly200Stacks(b *testing.B) {
	f, e := benchSwarm(b)
	inv, err := inventory.List(b.Context(), f)
	if err != nil {
		b.Fatal(err)
	}
	in := warm.ClassifyInput{Inventory: inv, Policy: warm.Policy{Grace: 10 * time.Minute}, Now: now}
	objs, _, err := e.st.List(b.Context(), v1alpha1.KindRecipe)
	if err != nil {
		b.Fatal(err)
	}
	for _, o := range objs {
		in.Recipes = append(in.Recipes, o.(*v1alpha1.Recipe))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		warm.Classify(in)
	}
}
