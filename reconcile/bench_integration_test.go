//go:build integration

package reconcile

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// BenchmarkOverhead runs one TestRun (base, upgrade, prune, verify; no recipe checks) on the
// real swarm and compares the run's wall time, from applied to verdict, with the sum of its
// deploys' convergence times measured in the same run (apply start to converged). Run it with
//
//	go test -run '^$' -bench Overhead -benchtime 3x ./reconcile
func BenchmarkOverhead(b *testing.B) {
	docker := swarmtest.RequireSwarm(b)
	swarmtest.RequireImages(b, docker, probe1, probe2)
	url, _ := standardRepo(b, "main")
	var ratios, walls, converges []float64
	i := 0
	for b.Loop() {
		i++
		dataDir := b.TempDir()
		st, err := store.Open(filepath.Join(dataDir, "swarmrun.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		var (
			mu       sync.Mutex
			converge time.Duration
		)
		progress := func(p Progress) {
			if p.Service == nil {
				mu.Lock()
				converge += p.Converged
				mu.Unlock()
			}
		}
		done := make(chan error, 1)
		go func() {
			done <- testController{Store: st, Engine: docker, DataDir: dataDir, Progress: progress}.run(ctx)
		}()
		if _, err := st.Apply(ctx, newRecipe("demo", url)); err != nil {
			b.Fatal(err)
		}
		tr := newTestRun(fmt.Sprintf("bench-ovh-%d-%s", i, time.Now().Format("150405")), "demo", "")
		tr.Spec.UpgradeBase = "0.1.0+1"
		tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}
		start := time.Now()
		if _, err := st.Apply(ctx, tr); err != nil {
			b.Fatal(err)
		}
		stack := StackName(tr)
		waitAllFinished(b, st, 1)
		wall := time.Since(start)
		got := &v1alpha1.TestRun{}
		if err := st.Get(ctx, tr.Name, got); err != nil {
			b.Fatal(err)
		}
		cancel()
		<-done
		st.Close()
		rm, cancelRm := context.WithTimeout(context.Background(), time.Minute)
		if err := swarmtest.RemoveStack(rm, docker, stack, true); err != nil {
			b.Error(err)
		}
		cancelRm()
		mu.Lock()
		c := converge
		mu.Unlock()
		ratios = append(ratios, wall.Seconds()/c.Seconds())
		walls = append(walls, wall.Seconds())
		converges = append(converges, c.Seconds())
	}
	b.ReportMetric(mean(walls), "run-s")
	b.ReportMetric(mean(converges), "converge-s")
	b.ReportMetric(mean(ratios), "run/converge")
}
