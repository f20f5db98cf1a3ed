package warm_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/internal/testkit"
	"github.com/swarmrun/swarmrun/warm"
)

func TestPromoteWritesCanonicalAndEvents(t *testing.T) {
	st := newStore(t)
	run := greenRun("kc-1", "keycloak", "0.8.1+3.5.0", c081, "0.8.1+3.5.0")
	create(t, st, enrolled("keycloak"), run)
	p := warm.NewPromoter(warm.PromoterOptions{Objects: st, Now: func() time.Time { return now }})

	d, err := p.Promote(t.Context(), run, published)
	if err != nil || !d.Promote {
		t.Fatalf("Promote = %+v, %v", d, err)
	}
	c := getRecipe(t, st, "keycloak").Status.Canonical
	if c == nil || c.Version != "0.8.1+3.5.0" || c.Commit != c081 || c.Run != "kc-1" || !c.PromotedAt.Time.Equal(now) {
		t.Fatalf("canonical = %+v", c)
	}
	if ev := reasons(t, st, v1alpha1.KindTestRun, "kc-1"); !hasPrefix(ev, "Promoted: 0.8.1+3.5.0") {
		t.Errorf("testrun events = %v", ev)
	}
	if ev := reasons(t, st, v1alpha1.KindRecipe, "keycloak"); !hasPrefix(ev, "Promoted: run kc-1: 0.8.1+3.5.0") {
		t.Errorf("recipe events = %v", ev)
	}

	// The same run again is refused, with the reason on both objects, and writes nothing.
	rv := getRecipe(t, st, "keycloak").ResourceVersion
	d, err = p.Promote(t.Context(), run, published)
	if err != nil || d.Promote {
		t.Fatalf("second Promote = %+v, %v", d, err)
	}
	if getRecipe(t, st, "keycloak").ResourceVersion != rv {
		t.Error("a refusal wrote the recipe")
	}
	if ev := reasons(t, st, v1alpha1.KindRecipe, "keycloak"); !hasPrefix(ev, "NotPromoted: run kc-1: 0.8.1+3.5.0 at 81818181 is already the canonical") {
		t.Errorf("recipe events = %v", ev)
	}
}

func TestPromoteRefusalsAreEvents(t *testing.T) {
	st := newStore(t)
	red := greenRun("kc-red", "keycloak", "0.8.1+3.5.0", c081, "0.8.1+3.5.0")
	red.Status.Conditions[0].Status, red.Status.Conditions[0].Reason = v1alpha1.ConditionFalse, v1alpha1.ReasonImagePullFailed
	branch := greenRun("kc-main", "keycloak", "main", c081, "0.8.1+3.5.0")
	old := greenRun("kc-old", "keycloak", "0.7.0+3.3.1", c070, "0.7.0+3.3.1")
	cold := greenRun("cp-1", "cryptpad", "0.8.1+3.5.0", c081, "0.8.1+3.5.0")
	notWarm := enrolled("cryptpad")
	notWarm.Spec.Warm = false
	create(t, st, enrolled("keycloak"), notWarm, red, branch, old, cold)
	p := warm.NewPromoter(warm.PromoterOptions{Objects: st})
	for run, want := range map[*v1alpha1.TestRun]string{
		red:    "NotPromoted: run kc-red is red (ImagePullFailed)",
		branch: "NotPromoted: head main is a branch or commit",
		old:    "NotPromoted: head 0.7.0+3.3.1 is older than the newest published version",
		cold:   "NotPromoted: recipe cryptpad is not enrolled as warm",
	} {
		d, err := p.Promote(t.Context(), run, published)
		if err != nil || d.Promote {
			t.Fatalf("%s: %+v, %v", run.Name, d, err)
		}
		if ev := reasons(t, st, v1alpha1.KindTestRun, run.Name); !hasPrefix(ev, want) {
			t.Errorf("%s: events %v, want %q", run.Name, ev, want)
		}
	}
	for _, name := range []string{"keycloak", "cryptpad"} {
		if c := getRecipe(t, st, name).Status.Canonical; c != nil {
			t.Errorf("%s got canonical %+v", name, c)
		}
	}
}

// barrier holds every Get of the recipe until n of them have read it, so that n promotions
// decide on the same resourceVersion and race for the write.
type barrier struct {
	warm.Objects
	n    int
	mu   sync.Mutex
	seen int
	all  chan struct{}
}

func (b *barrier) Get(ctx context.Context, name string, into v1alpha1.Object) error {
	err := b.Objects.Get(ctx, name, into)
	if _, ok := into.(*v1alpha1.Recipe); !ok {
		return err
	}
	b.mu.Lock()
	b.seen++
	if b.seen == b.n {
		close(b.all)
	}
	first := b.seen <= b.n
	b.mu.Unlock()
	if first {
		<-b.all
	}
	return err
}

func TestPromotionRaceLeavesOneCanonicalConsistentWithTheWarmStack(t *testing.T) {
	f := fake.New(fake.Options{Images: []string{testkit.ProbeV1, testkit.ProbeV2}, FastRollouts: true})
	racePromotions(t, f, "keycloak")
}

// racePromotions is acceptance 6: runs of one recipe promote at once, all deciding on the
// same resourceVersion; the store's check leaves one canonical, the newest, and the warm
// stack that the RecipeReconciler converges on engine follows that one record.
func racePromotions(t *testing.T, engine deploy.Engine, name string) {
	t.Helper()
	const n = 6
	st := newStore(t)
	repo, commits := testkit.Recipe(t, "main",
		testkit.Version{Image: testkit.ProbeV1, Version: "0.8.1+3.5.0", Tag: "0.8.1+3.5.0"},
		testkit.Version{Image: testkit.ProbeV2, Version: "0.9.0+3.6.0", Tag: "0.9.0+3.6.0"})
	c081, c090 := commits[0], commits[1]
	rc := enrolled(name)
	rc.Spec.Source.URL = repo.Dir
	create(t, st, rc)
	// Half the runs saw 0.9.0 published already; the other half ran before it was tagged.
	published := []recipe.Version{{Tag: "0.8.1+3.5.0", Commit: c081}}
	newer := append([]recipe.Version{{Tag: "0.9.0+3.6.0", Commit: c090}}, published...)
	var runs []*v1alpha1.TestRun
	for i := range n {
		r := greenRun(fmt.Sprintf("%s-%d", name, i), name, "0.8.1+3.5.0", c081, "0.8.1+3.5.0")
		if i%2 == 1 {
			r = greenRun(fmt.Sprintf("%s-%d", name, i), name, "0.9.0+3.6.0", c090, "0.9.0+3.6.0")
		}
		create(t, st, r)
		runs = append(runs, r)
	}
	b := &barrier{Objects: st, n: n, all: make(chan struct{})}
	p := warm.NewPromoter(warm.PromoterOptions{Objects: b})
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		conflicts int
		promoted  = map[string]int{}
	)
	for i, r := range runs {
		pub := published
		if i%2 == 1 {
			pub = newer
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := p.Promote(t.Context(), r, pub)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, store.ErrConflict):
				conflicts++ // lost twice: the controller retries it
			case err != nil:
				t.Error(err)
			case d.Promote:
				promoted[d.Canonical.Version]++
			}
		}()
	}
	wg.Wait()
	c := getRecipe(t, st, name).Status.Canonical
	if c == nil || c.Version != "0.9.0+3.6.0" || c.Commit != c090 {
		t.Fatalf("canonical = %+v, want 0.9.0+3.6.0: the newest version wins whatever the order", c)
	}
	if promoted["0.9.0+3.6.0"] != 1 {
		t.Errorf("promotions = %v (conflicts %d): exactly one run of 0.9.0 may win", promoted, conflicts)
	}
	if promoted["0.8.1+3.5.0"] > 1 {
		t.Errorf("promotions = %v: 0.8.1 written more than once", promoted)
	}

	// The warm stack follows the one record.
	dataDir := t.TempDir()
	pipeline, err := stack.New(stack.Options{Engine: engine, DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := warm.NewRecipeReconciler(warm.RecipeOptions{Objects: st, Stacks: pipeline, DataDir: dataDir, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 2*time.Minute, 10*time.Millisecond, func() bool {
		res, err := rr.Reconcile(t.Context(), controller.Request{Kind: v1alpha1.KindRecipe, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return res.IsZero()
	}, "the warm stack of %s did not converge", name)
	rc = getRecipe(t, st, name)
	if ws := rc.Status.WarmStack; ws == nil || !ws.Ready || ws.Version != rc.Status.Canonical.Version || ws.Commit != rc.Status.Canonical.Commit {
		t.Errorf("warm stack %+v is not the canonical %+v", ws, rc.Status.Canonical)
	}
	if ws := rc.Status.WarmStack; ws == nil || ws.Version != "0.9.0+3.6.0" {
		t.Errorf("warm stack %+v, want 0.9.0+3.6.0", ws)
	}
	live, err := inventory.ListStack(t.Context(), engine, warm.StackName(name))
	if err != nil {
		t.Fatal(err)
	}
	if own := inventory.StackOwner(live); len(live.Services) == 0 || !own.Managed || own.Warm != name {
		t.Errorf("warm stack on the engine: %d services, owner %+v", len(live.Services), own)
	}
}
