//go:build integration

package inventory_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// TestListOnTheRealSwarm keeps List honest against the engine: stored specs refer to
// networks, secrets and configs by ID, and List must still see who uses them.
func TestListOnTheRealSwarm(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	name := swarmtest.StackName(t, c, "inv")
	labels := map[string]string{"swarmrun.dev/managed-by": "swarmrun", "swarmrun.dev/testrun": name}
	if err := invtest.Create(t.Context(), c, invtest.Stack{Name: name, Labels: labels, Services: 2, Network: true, Secret: true, Config: true, Image: swarmtest.ProbeV1}); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.List(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	st := inv.Stacks[name]
	if st == nil {
		t.Fatalf("stack %s not listed", name)
	}
	want := []string{"service:" + name + "_s0", "service:" + name + "_s1", "network:" + name + "_default",
		"secret:" + name + "_pw_v1", "config:" + name + "_conf_v1"}
	if got := names(st.Objects()); !slices.Equal(got, want) {
		t.Errorf("objects = %v, want %v", got, want)
	}
	for _, o := range st.Objects() {
		if o.Labels["swarmrun.dev/testrun"] != name {
			t.Errorf("%s %s lost its labels: %v", o.Kind, o.Name, o.Labels)
		}
		if o.Kind != inventory.KindService && !slices.Equal(o.UsedBy, []string{name + "_s0", name + "_s1"}) {
			t.Errorf("%s %s used by %v", o.Kind, o.Name, o.UsedBy)
		}
		if o.CreatedAt.IsZero() {
			t.Errorf("%s %s has no creation time", o.Kind, o.Name)
		}
	}
	for _, o := range inv.Loose {
		if o.Name == "ingress" && !o.Predefined {
			t.Error("ingress is not marked predefined")
		}
	}
	d := deploy.New(deploy.Options{Engine: c})
	if _, err := inventory.RemoveStack(t.Context(), d, name, true); err != nil {
		t.Fatal(err)
	}
	if st, err := inventory.ListStack(t.Context(), c, name); err != nil || len(st.Objects()) != 0 {
		t.Errorf("after removal: %v, %v", st, err)
	}
}

// BenchmarkListRealSwarm lists the real swarm holding SWARMRUN_BENCH_STACKS (default 50)
// extra stacks of 2 services each, replicas 0. Setup and cleanup are reported as metrics.
func BenchmarkListRealSwarm(b *testing.B) {
	c := swarmtest.RequireSwarm(b)
	swarmtest.RequireImages(b, c, swarmtest.ProbeV1)
	n := 50
	if v, err := strconv.Atoi(os.Getenv("SWARMRUN_BENCH_STACKS")); err == nil && v > 0 {
		n = v
	}
	tb := make([]byte, 3)
	_, _ = rand.Read(tb)
	prefix := "it-bench-" + hex.EncodeToString(tb) + "-"
	start := time.Now()
	var stacks []invtest.Stack
	for i := range n {
		name := fmt.Sprintf("%s%03d", prefix, i)
		stacks = append(stacks, invtest.Stack{Name: name, Services: 2, Image: swarmtest.ProbeV1,
			Labels: map[string]string{"swarmrun.dev/managed-by": "swarmrun", "swarmrun.dev/testrun": name}})
	}
	created, setupErr := invtest.CreateMany(b.Context(), c, stacks, 4)
	setup := time.Since(start)
	b.Cleanup(func() {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		eg, ctx := errgroup.WithContext(ctx)
		eg.SetLimit(4)
		for _, name := range created {
			eg.Go(func() error { return swarmtest.RemoveStack(ctx, c, name, true) })
		}
		if err := eg.Wait(); err != nil {
			b.Errorf("cleanup: %v", err)
		}
		b.Logf("%d stacks: setup %s, cleanup %s", n, setup.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	})
	if setupErr != nil {
		b.Fatal(setupErr)
	}
	var inv *inventory.Inventory
	for b.Loop() {
		var err error
		if inv, err = inventory.List(b.Context(), c); err != nil {
			b.Fatal(err)
		}
	}
	ours := 0
	for name := range inv.Stacks {
		if strings.HasPrefix(name, prefix) {
			ours++
		}
	}
	if ours != n {
		b.Fatalf("listed %d of the %d stacks", ours, n)
	}
	b.ReportMetric(float64(n), "stacks")
	b.ReportMetric(setup.Seconds(), "setup-s")
}
