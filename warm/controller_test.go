package warm_test

import (
	"context"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/warm"
)

// TestRecipeControllerFollowsTheStore: a promotion written to the store brings the warm
// stack up; warm turned off takes it down, without anyone calling Reconcile by hand.
func TestRecipeControllerFollowsTheStore(t *testing.T) {
	f := fake.New(fake.Options{Images: []string{probe}})
	st := newStore(t)
	create(t, st, enrolled("keycloak"))
	stacks := &fakeStacks{engine: f}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- warm.RunRecipeController(ctx, warm.RecipeControllerOptions{Store: st, Engine: f, Stacks: stacks})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller: %v", err)
		}
	}()
	eventually := func(msg string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatal(msg)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	eventually("no WarmReady=False/NoCanonical", func() bool {
		return warmReady(getRecipe(t, st, "keycloak")) == "False/"+warm.ReasonNoCanonical
	})
	setCanonical(t, st, "keycloak", "0.8.1+3.5.0", c081)
	eventually("the promotion was not deployed", func() bool {
		return warmReady(getRecipe(t, st, "keycloak")) == "True/"+warm.ReasonConverged
	})
	rc := getRecipe(t, st, "keycloak")
	rc.Spec.Warm = false
	if err := st.Update(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
	eventually("the warm stack was not removed", func() bool {
		return len(stackObjects(t, f, "warm-keycloak")) == 0 && warmReady(getRecipe(t, st, "keycloak")) == "False/"+warm.ReasonNotEnrolled
	})
	if v := stacks.versions(); len(v) != 1 || v[0] != "0.8.1+3.5.0" {
		t.Errorf("deploys = %v", v)
	}
}
