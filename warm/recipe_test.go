package warm_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/internal/testkit"
	"github.com/swarmrun/swarmrun/warm"
)

// recipeEnv is a RecipeReconciler over a store and the real pipeline on the fake engine, and
// a recipe repository with two releases: 0.1.0+1 (app and sidekiq on probe 1) and 0.2.0+2
// (app on probe 2, sidekiq dropped).
type recipeEnv struct {
	f       *fake.Fake
	st      *store.Store
	r       *warm.RecipeReconciler
	dataDir string
	url     string
	commits []string
	obs     *countingObserver
}

// countingObserver counts convergences and pruned services by role.
type countingObserver struct {
	converged, pruned map[string]int
}

func (o *countingObserver) DeployConverged(role string, took time.Duration) {
	if took < 0 {
		panic("negative convergence time")
	}
	o.converged[role]++
}
func (o *countingObserver) ServicesPruned(role string, n int) { o.pruned[role] += n }

func newRecipeEnv(t *testing.T) *recipeEnv {
	t.Helper()
	f := fake.New(fake.Options{Images: []string{testkit.ProbeV1, testkit.ProbeV2}, FastRollouts: true})
	dataDir := t.TempDir()
	pipeline, err := stack.New(stack.Options{Engine: f, Deployer: deploy.New(deploy.Options{Engine: f, PollInterval: time.Millisecond}),
		DataDir: dataDir, Stable: -1})
	if err != nil {
		t.Fatal(err)
	}
	url, commits := testkit.Standard(t, "main")
	e := &recipeEnv{f: f, st: newStore(t), dataDir: dataDir, url: url, commits: commits,
		obs: &countingObserver{converged: map[string]int{}, pruned: map[string]int{}}}
	if e.r, err = warm.NewRecipeReconciler(warm.RecipeOptions{Objects: e.st, Stacks: pipeline, DataDir: dataDir,
		Now: func() time.Time { return now }, Observer: e.obs}); err != nil {
		t.Fatal(err)
	}
	return e
}

// warmRecipe is an enrolled recipe of the env's repository whose canonical is 0.1.0+1.
func (e *recipeEnv) warmRecipe(name string) *v1alpha1.Recipe {
	rc := enrolled(name)
	rc.Spec.Source.URL = e.url
	rc.Status.Canonical = &v1alpha1.Canonical{Version: "0.1.0+1", Commit: e.commits[0], Status: warm.CanonicalStatus}
	return rc
}

// reconcile takes steps, as the controller would, until the reconciler asks for nothing more
// or returns an error.
func (e *recipeEnv) reconcile(t *testing.T, name string) error {
	t.Helper()
	for range 500 {
		res, err := e.r.Reconcile(t.Context(), controller.Request{Kind: v1alpha1.KindRecipe, Name: name})
		if err != nil || res.IsZero() {
			return err
		}
		time.Sleep(min(res.RequeueAfter, 20*time.Millisecond))
	}
	t.Fatalf("recipe %s still asks for more after 500 steps", name)
	return nil
}

func (e *recipeEnv) stack(t *testing.T, name string) *inventory.Stack {
	t.Helper()
	st, err := inventory.ListStack(t.Context(), e.f, name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func warmReady(rc *v1alpha1.Recipe) string {
	c := apimeta.FindStatusCondition(rc.Status.Conditions, v1alpha1.ConditionWarmReady)
	if c == nil {
		return ""
	}
	return string(c.Status) + "/" + c.Reason
}

func setCanonical(t *testing.T, st *store.Store, name, version, commit string) {
	t.Helper()
	rc := getRecipe(t, st, name)
	rc.Status.Canonical = &v1alpha1.Canonical{Version: version, Commit: commit, Status: warm.CanonicalStatus}
	if err := st.UpdateStatus(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
}

func serviceNames(st *inventory.Stack) []string {
	var out []string
	for _, s := range st.Services {
		out = append(out, s.Name)
	}
	return out
}

func TestRecipeReconcilerConvergesRemovesAndReports(t *testing.T) {
	e := newRecipeEnv(t)
	create(t, e.st, e.warmRecipe("keycloak"))

	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	rc := getRecipe(t, e.st, "keycloak")
	if ws := rc.Status.WarmStack; ws == nil || ws.Name != "warm-keycloak" || ws.Version != "0.1.0+1" || ws.Commit != e.commits[0] ||
		!ws.Ready || ws.Deploy == nil || ws.Deploy.ConvergedAt == nil || len(ws.Deploy.Created) != 2 {
		t.Errorf("warmStack = %+v", ws)
	}
	if got := warmReady(rc); got != "True/"+v1alpha1.ReasonConverged {
		t.Errorf("WarmReady = %s", got)
	}
	if !rc.HasFinalizer(v1alpha1.FinalizerTeardown) {
		t.Error("a warm recipe with a stack must hold the teardown finalizer")
	}
	for _, s := range e.stack(t, "warm-keycloak").Services {
		if s.Labels[v1alpha1.LabelWarm] != "keycloak" || s.Labels[v1alpha1.LabelRole] != v1alpha1.RoleWarm {
			t.Errorf("service %s labels %v", s.Name, s.Labels)
		}
	}

	// Level-based and idempotent: nothing changed, nothing deployed.
	creates, updates := e.f.Calls("ServiceCreate"), e.f.Calls("ServiceUpdate")
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	if e.f.Calls("ServiceCreate") != creates || e.f.Calls("ServiceUpdate") != updates {
		t.Errorf("a reconcile with nothing to do deployed")
	}

	// A new record is followed, and the service the new version dropped is pruned.
	setCanonical(t, e.st, "keycloak", "0.2.0+2", e.commits[1])
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	if ws := getRecipe(t, e.st, "keycloak").Status.WarmStack; ws.Version != "0.2.0+2" || !ws.Ready {
		t.Errorf("warmStack = %+v", ws)
	}
	if got := serviceNames(e.stack(t, "warm-keycloak")); len(got) != 1 || got[0] != "warm-keycloak_app" {
		t.Errorf("services after the upgrade %v, want the app alone", got)
	}
	// Two deploys converged (the first version, then the second), one service pruned.
	if c, p := e.obs.converged[v1alpha1.RoleWarm], e.obs.pruned[v1alpha1.RoleWarm]; c != 2 || p != 1 {
		t.Errorf("observer heard %d warm convergences and %d pruned services, want 2 and 1", c, p)
	}

	// Warm off: the stack goes, its volume stays.
	rc = getRecipe(t, e.st, "keycloak")
	rc.Spec.Warm = false
	if err := e.st.Update(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	st := e.stack(t, "warm-keycloak")
	if len(st.Services)+len(st.Networks)+len(st.Secrets) != 0 || len(st.Volumes) != 1 {
		t.Errorf("after warm off: %+v, want only the volume", st)
	}
	rc = getRecipe(t, e.st, "keycloak")
	if rc.Status.WarmStack != nil || warmReady(rc) != "False/"+v1alpha1.ReasonNotEnrolled || rc.HasFinalizer(v1alpha1.FinalizerTeardown) {
		t.Errorf("status %+v, WarmReady %s, finalizers %v", rc.Status.WarmStack, warmReady(rc), rc.Finalizers)
	}
	if ev := reasons(t, e.st, v1alpha1.KindRecipe, "keycloak"); !hasPrefix(ev, v1alpha1.ReasonWarmStackRemoved+": removed warm-keycloak") {
		t.Errorf("events = %v", ev)
	}

	// Warm on again: deployed over the kept volume.
	rc.Spec.Warm = true
	if err := e.st.Update(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	if got := warmReady(getRecipe(t, e.st, "keycloak")); got != "True/"+v1alpha1.ReasonConverged {
		t.Errorf("WarmReady after re-enrolling = %s", got)
	}
}

func TestRecipeDeletionRemovesTheWarmStackThenTheRecipe(t *testing.T) {
	e := newRecipeEnv(t)
	create(t, e.st, e.warmRecipe("keycloak"))
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Delete(t.Context(), v1alpha1.KindRecipe, "keycloak"); err != nil {
		t.Fatal(err)
	}
	if len(e.stack(t, "warm-keycloak").Services) == 0 {
		t.Fatal("the finalizer must hold the stack until the reconciler removes it")
	}
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	if st := e.stack(t, "warm-keycloak"); len(st.Services)+len(st.Networks)+len(st.Secrets) != 0 {
		t.Errorf("stack left: %+v", st)
	}
	if err := e.st.Get(t.Context(), "keycloak", &v1alpha1.Recipe{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("recipe still there: %v", err)
	}
	// The recipe gone for good: a reconcile of its key is a no-op.
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Error(err)
	}
}

// A key whose Recipe this store never had comes from an event of a warm stack another
// swarmrun (another store) owns on the same swarm: it is not this reconciler's to remove.
// Stacks of Recipes that are gone are the garbage collector's, after its grace period.
func TestRecipeReconcilerLeavesAnotherStoresWarmStackAlone(t *testing.T) {
	other := newRecipeEnv(t)
	create(t, other.st, other.warmRecipe("keycloak"))
	if err := other.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	// A second reconciler on the same engine, with a store that has no Recipe keycloak.
	pipeline, err := stack.New(stack.Options{Engine: other.f, DataDir: t.TempDir(), Stable: -1})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := warm.NewRecipeReconciler(warm.RecipeOptions{Objects: newStore(t), Stacks: pipeline, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	removes := other.f.Calls("ServiceRemove")
	res, err := mine.Reconcile(t.Context(), controller.Request{Kind: v1alpha1.KindRecipe, Name: "keycloak"})
	if err != nil || !res.IsZero() {
		t.Fatalf("reconcile of a key with no Recipe = %+v, %v; want nothing to do", res, err)
	}
	if other.f.Calls("ServiceRemove") != removes || len(other.stack(t, "warm-keycloak").Services) == 0 {
		t.Error("removed the warm stack of a Recipe this store does not have")
	}
}

func TestRecipeReconcilerLeavesUnlabelledStacksAlone(t *testing.T) {
	e := newRecipeEnv(t)
	create(t, e.st, e.warmRecipe("keycloak"))
	if err := invtest.Create(t.Context(), e.f, invtest.Stack{Name: "warm-keycloak", Services: 1, Image: probe}); err != nil {
		t.Fatal(err)
	}
	creates := e.f.Calls("ServiceCreate")
	err := e.reconcile(t, "keycloak")
	if !controller.IsTerminal(err) {
		t.Fatalf("err = %v, want a terminal error: no retry helps until an operator acts", err)
	}
	if got := warmReady(getRecipe(t, e.st, "keycloak")); got != "False/"+v1alpha1.ReasonStackNotOwned {
		t.Errorf("WarmReady = %s", got)
	}
	if e.f.Calls("ServiceCreate") != creates || e.f.Calls("ServiceUpdate") != 0 {
		t.Error("deployed over a stack swarmrun does not own")
	}
	// Not warm any more, or deleted: still not touched.
	rc := getRecipe(t, e.st, "keycloak")
	rc.Spec.Warm = false
	if err := e.st.Update(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Delete(t.Context(), v1alpha1.KindRecipe, "keycloak"); err != nil {
		t.Fatal(err)
	}
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	if len(e.stack(t, "warm-keycloak").Services) != 1 {
		t.Error("an unlabelled stack was removed")
	}
}

func TestRecipeReconcilerDeployFailure(t *testing.T) {
	e := newRecipeEnv(t)
	create(t, e.st, e.warmRecipe("keycloak"))
	boom := errors.New("engine refused")
	e.f.FailNext("ServiceCreate", boom)
	err := e.reconcile(t, "keycloak")
	if err == nil || controller.IsTerminal(err) {
		t.Fatalf("err = %v, want the deploy error, retryable", err)
	}
	rc := getRecipe(t, e.st, "keycloak")
	if got := warmReady(rc); got != "False/"+v1alpha1.ReasonDeployFailed || rc.Status.WarmStack.Ready {
		t.Errorf("WarmReady = %s, warmStack %+v", got, rc.Status.WarmStack)
	}
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	if got := warmReady(getRecipe(t, e.st, "keycloak")); got != "True/"+v1alpha1.ReasonConverged {
		t.Errorf("WarmReady after retry = %s", got)
	}
}

// The canonical is status, which only swarmrun's controllers write; still, what it names
// decides what is deployed and where files go: one that names no release of the recipe at
// its commit deploys nothing and writes nothing.
func TestRecipeReconcilerRefusesAForgedCanonical(t *testing.T) {
	for _, tc := range []struct{ name, version, commit string }{
		{"path as a version", "../../../victim", ""},
		{"release at another commit", "0.1.0+1", ""},
		{"tag that does not exist", "9.9.9+9", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRecipeEnv(t)
			rc := e.warmRecipe("keycloak")
			rc.Status.Canonical.Version = tc.version
			rc.Status.Canonical.Commit = e.commits[1]
			create(t, e.st, rc)
			victim := filepath.Join(e.dataDir, "warm", "keycloak", tc.version)
			err := e.reconcile(t, "keycloak")
			if !controller.IsTerminal(err) {
				t.Fatalf("err = %v, want a terminal error", err)
			}
			if got := warmReady(getRecipe(t, e.st, "keycloak")); got != "False/"+v1alpha1.ReasonInvalidCanonical {
				t.Errorf("WarmReady = %s", got)
			}
			if e.f.Calls("ServiceCreate") != 0 {
				t.Error("a forged canonical was deployed")
			}
			if _, err := os.Stat(victim); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s written: %v", victim, err)
			}
		})
	}
}

func TestRecipeReconcilerNoCanonicalAndNeverWarm(t *testing.T) {
	e := newRecipeEnv(t)
	plain := enrolled("plain")
	plain.Spec.Warm = false
	create(t, e.st, enrolled("fresh"), plain)
	rv := getRecipe(t, e.st, "plain").ResourceVersion
	if err := e.reconcile(t, "plain"); err != nil {
		t.Fatal(err)
	}
	if getRecipe(t, e.st, "plain").ResourceVersion != rv {
		t.Error("a recipe that was never warm was written")
	}
	if err := e.reconcile(t, "fresh"); err != nil {
		t.Fatal(err)
	}
	if got := warmReady(getRecipe(t, e.st, "fresh")); got != "False/"+v1alpha1.ReasonNoCanonical {
		t.Errorf("WarmReady = %s", got)
	}
	if e.f.Calls("ServiceCreate") != 0 {
		t.Error("deployed without a canonical")
	}
}
