//go:build integration

package gccmd_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// TestGCAdoptWarmOnTheRealSwarm: of three unlabelled warm-looking stacks, --adopt-warm
// removes only the one whose Recipe exists without a canonical: not the one that names no
// Recipe, nor abra's warm-<recipe>_<domain> stack of a Recipe with a canonical. Names carry
// a random tag and the pass is scoped to it, so nothing else on the shared swarm is reached.
func TestGCAdoptWarmOnTheRealSwarm(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	tag := "t" + hex.EncodeToString(b) + "-"
	prefix := "warm-" + tag
	var (
		up       = prefix + "up"                   // no Recipe <tag>up
		keycloak = prefix + "keycloak_example_org" // Recipe <tag>keycloak, with a canonical
		ghost    = prefix + "ghost_example_org"    // Recipe <tag>ghost, without one
	)
	for _, name := range []string{up, keycloak, ghost} {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := swarmtest.RemoveStack(ctx, c, name, true); err != nil {
				t.Errorf("cleanup of %s: %v", name, err)
			}
		})
		// Made as docker stack deploy makes a stack: the namespace label and nothing else.
		if err := invtest.Create(t.Context(), c, invtest.Stack{Name: name, Services: 1, Network: true, Image: swarmtest.ProbeV1}); err != nil {
			t.Fatal(err)
		}
	}
	canonical := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: tag + "keycloak"}, Spec: v1alpha1.RecipeSpec{Warm: true},
		Status: v1alpha1.RecipeStatus{Canonical: &v1alpha1.Canonical{Version: "1.0.0+1"}}}
	noCanonical := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: tag + "ghost"}, Spec: v1alpha1.RecipeSpec{Warm: true}}
	dir := dataDir(t, canonical, noCanonical)

	out, errOut, code := gc(t, c, dir, "--adopt-warm", "--name-prefix", prefix)
	if code != 0 {
		t.Fatalf("gc --adopt-warm exits %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		ghost + " removed",
		"report   unlabelled warm-looking stack; no Recipe " + tag + "up exists, so it is not adopted",
		"report   unlabelled warm-looking stack; recipe " + tag + "keycloak has canonical 1.0.0+1, so it is not adopted",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var live []string
	for name := range strings.SplitSeq(invtest.Live(t, c), ",") {
		if strings.HasPrefix(name, prefix) {
			live = append(live, name)
		}
	}
	if want := []string{keycloak, up}; !slices.Equal(live, want) {
		t.Errorf("stacks left %v, want %v", live, want)
	}
}
