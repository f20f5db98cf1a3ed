//go:build integration

package warm_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
	"github.com/swarmrun/swarmrun/warm"
)

// legacyCompose is a stack as an older tool deployed it with plain docker stack deploy: no
// swarmrun label anywhere.
const legacyCompose = `version: "3.8"
services:
  app:
    image: swarmrun-probe:1
    command: ["-sleep", "0"]
    deploy:
      replicas: 0
`

// stackDeploy runs the docker CLI, as an operator would, and registers the stack's removal.
func stackDeploy(t *testing.T, name string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "compose.yml")
	if err := os.WriteFile(file, []byte(legacyCompose), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), "docker", "stack", "deploy", "--resolve-image", "never", "-c", file, name).CombinedOutput()
	if err != nil {
		t.Fatalf("docker stack deploy %s: %v\n%s", name, err, out)
	}
	removeLater(t, name)
}

func removeLater(t *testing.T, name string) {
	t.Helper()
	c := swarmtest.RequireSwarm(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := swarmtest.RemoveStack(ctx, c, name, true); err != nil {
			t.Errorf("cleanup of %s: %v", name, err)
		}
	})
}

func liveStacks(t *testing.T, e deploy.Engine, tag string) []string {
	t.Helper()
	inv, err := inventory.List(t.Context(), e)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range inv.StackNames() {
		if strings.Contains(n, tag) && len(inv.Stacks[n].Services) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// TestGCOnTheRealSwarm covers acceptance 3 and 4 on the real swarm. Every pass is scoped to
// this test's objects (their names carry a random tag), so that other stacks on the shared
// swarm are out of reach whatever the classification says.
func TestGCOnTheRealSwarm(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	tag := hex.EncodeToString(b)
	var (
		legacy   = "warm-it" + tag // unlabelled, warm-looking: recipe "it<tag>" exists with no record
		demo     = "demo-it" + tag // unlabelled, unrelated
		labelled = "warm-itl" + tag
		runStack = "it-run-" + tag
		recipe   = "itl" + tag
		run      = "itr" + tag
	)
	stackDeploy(t, legacy)
	stackDeploy(t, demo)
	for _, s := range []invtest.Stack{
		{Name: labelled, Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelWarm: recipe, v1alpha1.LabelRole: v1alpha1.RoleWarm}},
		{Name: runStack, Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelTestRun: run}},
	} {
		removeLater(t, s.Name)
		s.Services, s.Network, s.Secret, s.Image = 2, true, true, swarmtest.ProbeV1
		if err := invtest.Create(t.Context(), c, s); err != nil {
			t.Fatal(err)
		}
	}
	st := newStore(t)
	create(t, st, enrolled(recipe), enrolled("it"+tag), &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: run}, Spec: v1alpha1.TestRunSpec{Recipe: recipe}})
	// Deleted behind the controller's back: no finalizer ran, its stack is left.
	if _, err := st.Delete(t.Context(), v1alpha1.KindTestRun, run); err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	pass := func(policy warm.Policy) *warm.Report {
		t.Helper()
		policy.Grace = time.Hour
		col := warm.NewCollector(warm.CollectorOptions{Engine: c, Objects: st, Policy: policy,
			Scope: func(name string) bool { return strings.Contains(name, tag) },
			Now:   func() time.Time { return clock }})
		r, err := col.Pass(t.Context(), false)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	// Default policy, within the grace period: the labelled warm stack with no canonical goes;
	// the orphaned run stack waits for the grace period; the legacy stack is reported only.
	r := pass(warm.Policy{})
	if got := names(r.Removed); !slices.Equal(got, []string{labelled}) {
		t.Errorf("removed %v, want only %s", got, labelled)
	}
	if got := names(r.Plan.Unmanaged); !slices.Equal(got, []string{legacy}) {
		t.Errorf("reported %v, want %s", got, legacy)
	}
	if got := liveStacks(t, c, tag); !slices.Equal(got, []string{demo, runStack, legacy}) {
		t.Fatalf("live %v", got)
	}
	if ev := reasons(t, st, v1alpha1.KindRecipe, recipe); !hasPrefix(ev, "GarbageCollected: removed stale stack "+labelled) {
		t.Errorf("recipe events %v", ev)
	}

	// Past the grace period the run stack goes, with its network and secret.
	clock = clock.Add(2 * time.Hour)
	if got := names(pass(warm.Policy{}).Removed); !slices.Equal(got, []string{runStack}) {
		t.Errorf("removed %v, want %s", got, runStack)
	}
	inv, err := inventory.List(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if s := inv.Stacks[runStack]; s != nil {
		t.Errorf("left of %s: %v", runStack, s.Objects())
	}

	// Adoption on: the legacy warm-looking stack goes, demo never does.
	if got := names(pass(warm.Policy{AdoptWarm: true}).Removed); !slices.Equal(got, []string{legacy}) {
		t.Errorf("removed %v, want %s", got, legacy)
	}
	if got := liveStacks(t, c, tag); !slices.Equal(got, []string{demo}) {
		t.Errorf("live %v, want only %s", got, demo)
	}
	if r := pass(warm.Policy{AdoptWarm: true}); len(r.Removed) != 0 || len(r.Plan.Stale) != 0 {
		t.Errorf("a pass with nothing stale removed %v", names(r.Removed))
	}
}

// TestPromotionRaceOnTheRealSwarm is acceptance 6 with the warm stack deployed on the real
// swarm by the RecipeReconciler, through the deploy pipeline runs use.
func TestPromotionRaceOnTheRealSwarm(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	name := "itp" + hex.EncodeToString(b)
	removeLater(t, warm.StackName(name))
	racePromotions(t, c, name)
}

// countingEngine counts the listings a pass makes on the real engine.
type countingEngine struct {
	deploy.Engine
	mu    sync.Mutex
	calls int
}

func (e *countingEngine) count() {
	e.mu.Lock()
	e.calls++
	e.mu.Unlock()
}

func (e *countingEngine) ServiceList(ctx context.Context, o swarm.ServiceListOptions) ([]swarm.Service, error) {
	e.count()
	return e.Engine.ServiceList(ctx, o)
}

func (e *countingEngine) NetworkList(ctx context.Context, o network.ListOptions) ([]network.Summary, error) {
	e.count()
	return e.Engine.NetworkList(ctx, o)
}

func (e *countingEngine) SecretList(ctx context.Context, o swarm.SecretListOptions) ([]swarm.Secret, error) {
	e.count()
	return e.Engine.SecretList(ctx, o)
}

func (e *countingEngine) ConfigList(ctx context.Context, o swarm.ConfigListOptions) ([]swarm.Config, error) {
	e.count()
	return e.Engine.ConfigList(ctx, o)
}

func (e *countingEngine) VolumeList(ctx context.Context, o volume.ListOptions) (volume.ListResponse, error) {
	e.count()
	return e.Engine.VolumeList(ctx, o)
}

// BenchmarkPassRealSwarm is a dry-run GC pass (listing and classification) on the real swarm
// holding SWARMRUN_BENCH_STACKS (default 50) extra stacks of 2 services each, replicas 0:
// half run stacks whose TestRun is gone, a quarter warm stacks, a quarter unlabelled.
func BenchmarkPassRealSwarm(b *testing.B) {
	c := swarmtest.RequireSwarm(b)
	swarmtest.RequireImages(b, c, swarmtest.ProbeV1)
	n := 50
	if v, err := strconv.Atoi(os.Getenv("SWARMRUN_BENCH_STACKS")); err == nil && v > 0 {
		n = v
	}
	tb := make([]byte, 3)
	_, _ = rand.Read(tb)
	tag := hex.EncodeToString(tb)
	var stacks []invtest.Stack
	for i := range n {
		s := invtest.Stack{Name: fmt.Sprintf("it-gcb%s-%03d", tag, i), Services: 2, Image: swarmtest.ProbeV1}
		switch i % 4 {
		case 0, 1:
			s.Labels = runLabels(s.Name)
		case 2:
			s.Labels = warmLabels(s.Name)
		}
		stacks = append(stacks, s)
	}
	start := time.Now()
	created, err := invtest.CreateMany(b.Context(), c, stacks, 4)
	setup := time.Since(start)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for _, name := range created {
			if err := swarmtest.RemoveStack(ctx, c, name, true); err != nil {
				b.Errorf("cleanup of %s: %v", name, err)
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	e := &countingEngine{Engine: c}
	col := warm.NewCollector(warm.CollectorOptions{Engine: e, Objects: &memObjects{},
		Scope: func(name string) bool { return strings.Contains(name, "it-gcb"+tag) },
		Now:   func() time.Time { return time.Now().Add(time.Hour) }})
	var r *warm.Report
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r, err = col.Pass(b.Context(), true); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(e.calls)/float64(b.N), "engine-calls/op")
	b.ReportMetric(setup.Seconds(), "setup-s")
	if want := n/2 + n/4; len(r.Plan.Stale) < want {
		b.Fatalf("stale %d, want at least %d", len(r.Plan.Stale), want)
	}
}
