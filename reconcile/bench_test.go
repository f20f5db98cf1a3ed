package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/fake"
)

// BenchmarkThroughput runs 1,000 TestRuns of one recipe through the whole controller on the
// fake engine, from applied to their verdict, and reports the wall time, reconciles per
// second and the peak heap. Run it with
//
//	go test -run '^$' -bench Throughput -benchtime 1x ./reconcile
func BenchmarkThroughput(b *testing.B) {
	runs := benchRuns()
	url, _ := standardRepo(b, "main")
	for b.Loop() {
		dataDir := b.TempDir()
		st, err := store.Open(filepath.Join(dataDir, "swarmrun.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		engine := fake.New(fake.Options{Images: []string{probe1, probe2}, FastRollouts: true})
		ctx, cancel := context.WithCancel(context.Background())
		if _, err := st.Apply(ctx, newRecipe("demo", url)); err != nil {
			b.Fatal(err)
		}
		peak := sampleHeap(ctx)
		reg := prometheus.NewRegistry()
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			done <- testController{Store: st, Engine: engine, DataDir: dataDir,
				Workers: 32, MaxRuns: 32, Stable: -1, Metrics: reg, NoEvents: true}.run(ctx)
		}()
		for i := range runs {
			tr := newTestRun(fmt.Sprintf("run-%04d", i), "demo", "")
			tr.Spec.UpgradeBase = "0.1.0+1"
			tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}
			if _, err := st.Apply(ctx, tr); err != nil {
				b.Fatal(err)
			}
		}
		waitAllFinished(b, st, runs)
		wall := time.Since(start)
		reconciles := reconcileCount(b, reg)
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(reconciles)/wall.Seconds(), "reconciles/s")
		b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(runs)/wall.Seconds(), "runs/s")
		st.Close()
	}
}

// waitAllFinished watches the store until n TestRuns have their verdict, all green.
func waitAllFinished(b *testing.B, st *store.Store, n int) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	done := map[string]bool{}
	for len(done) < n {
		objs, rv, err := st.List(ctx, v1alpha1.KindTestRun)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range objs {
			note(b, done, o.(*v1alpha1.TestRun))
		}
		ch, err := st.Watch(ctx, v1alpha1.KindTestRun, rv)
		if err != nil {
			b.Fatal(err)
		}
		for ev := range ch {
			if ev.Type == store.Relist {
				break
			}
			note(b, done, ev.Object.(*v1alpha1.TestRun))
			if len(done) == n {
				return
			}
		}
		if ctx.Err() != nil {
			b.Fatalf("%d of %d runs finished", len(done), n)
		}
	}
}

func note(b *testing.B, done map[string]bool, tr *v1alpha1.TestRun) {
	if !finished(tr) {
		return
	}
	if c := condition(tr, v1alpha1.ConditionSucceeded); c.Status != v1alpha1.ConditionTrue {
		b.Fatalf("%s: %s %s", tr.Name, c.Reason, c.Message)
	}
	done[tr.Name] = true
}

// sampleHeap samples the heap in use until ctx ends; the returned func gives the peak.
func sampleHeap(ctx context.Context) func() uint64 {
	var (
		mu   sync.Mutex
		peak uint64
	)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapInuse+m.StackInuse)
			mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

func reconcileCount(b *testing.B, reg *prometheus.Registry) uint64 {
	b.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "controller_runtime_reconcile_time_seconds" {
			var n uint64
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
			return n
		}
	}
	return 0
}

// benchRuns is 1,000, or SWARMRUN_BENCH_RUNS for a quicker look.
func benchRuns() int {
	if n, err := strconv.Atoi(os.Getenv("SWARMRUN_BENCH_RUNS")); err == nil && n > 0 {
		return n
	}
	return 1000
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
