package warm_test

import (
	"errors"
	"slices"
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
	"github.com/swarmrun/swarmrun/warm"
)

type recipeEnv struct {
	f      *fake.Fake
	st     *store.Store
	stacks *fakeStacks
	r      *warm.RecipeReconciler
}

func newRecipeEnv(t *testing.T) *recipeEnv {
	t.Helper()
	f := fake.New(fake.Options{Images: []string{probe}})
	e := &recipeEnv{f: f, st: newStore(t), stacks: &fakeStacks{engine: f}}
	e.r = warm.NewRecipeReconciler(warm.RecipeOptions{Objects: e.st, Engine: f, Stacks: e.stacks,
		Deployer: deploy.New(deploy.Options{Engine: f, PollInterval: time.Millisecond}), Now: func() time.Time { return now }})
	return e
}

func (e *recipeEnv) reconcile(t *testing.T, name string) error {
	t.Helper()
	_, err := e.r.Reconcile(t.Context(), controller.Request{Kind: v1alpha1.KindRecipe, Name: name})
	return err
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

func TestRecipeReconcilerConvergesRemovesAndReports(t *testing.T) {
	e := newRecipeEnv(t)
	create(t, e.st, canonicalRecipe("keycloak"))

	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	rc := getRecipe(t, e.st, "keycloak")
	if ws := rc.Status.WarmStack; ws == nil || *ws != (v1alpha1.WarmStack{Name: "warm-keycloak", Version: "0.8.1+3.5.0", Commit: c081, Ready: true}) {
		t.Errorf("warmStack = %+v", ws)
	}
	if got := warmReady(rc); got != "True/"+warm.ReasonConverged {
		t.Errorf("WarmReady = %s", got)
	}
	if !rc.HasFinalizer(v1alpha1.FinalizerTeardown) {
		t.Error("a warm recipe with a stack must hold the teardown finalizer")
	}

	// Level-based and idempotent: nothing changed, nothing deployed.
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	if v := e.stacks.versions(); len(v) != 1 {
		t.Errorf("deploys = %v, want one", v)
	}

	// A new record is followed.
	setCanonical(t, e.st, "keycloak", "0.9.0+3.6.0", c090)
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	if v := e.stacks.versions(); !slices.Equal(v, []string{"0.8.1+3.5.0", "0.9.0+3.6.0"}) {
		t.Errorf("deploys = %v", v)
	}
	if ws := getRecipe(t, e.st, "keycloak").Status.WarmStack; ws.Version != "0.9.0+3.6.0" {
		t.Errorf("warmStack = %+v", ws)
	}

	// Warm off: the stack goes, its volume stays.
	e.f.AddVolume("warm-keycloak_data", map[string]string{deploy.LabelNamespace: "warm-keycloak"})
	rc = getRecipe(t, e.st, "keycloak")
	rc.Spec.Warm = false
	if err := e.st.Update(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	st := e.stack(t, "warm-keycloak")
	if len(st.Services)+len(st.Networks) != 0 || len(st.Volumes) != 1 {
		t.Errorf("after warm off: %+v, want only the volume", st)
	}
	rc = getRecipe(t, e.st, "keycloak")
	if rc.Status.WarmStack != nil || warmReady(rc) != "False/"+warm.ReasonNotEnrolled || rc.HasFinalizer(v1alpha1.FinalizerTeardown) {
		t.Errorf("status %+v, WarmReady %s, finalizers %v", rc.Status.WarmStack, warmReady(rc), rc.Finalizers)
	}
	if ev := reasons(t, e.st, v1alpha1.KindRecipe, "keycloak"); !hasPrefix(ev, warm.ReasonRemoved+": removed warm-keycloak") {
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
	if got := warmReady(getRecipe(t, e.st, "keycloak")); got != "True/"+warm.ReasonConverged {
		t.Errorf("WarmReady after re-enrolling = %s", got)
	}
}

func TestRecipeDeletionRemovesTheWarmStackThenTheRecipe(t *testing.T) {
	e := newRecipeEnv(t)
	create(t, e.st, canonicalRecipe("keycloak"))
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
	if st := e.stack(t, "warm-keycloak"); len(st.Objects()) != 0 {
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

func TestRecipeReconcilerLeavesUnlabelledStacksAlone(t *testing.T) {
	e := newRecipeEnv(t)
	create(t, e.st, canonicalRecipe("keycloak"))
	if err := invtest.Create(t.Context(), e.f, invtest.Stack{Name: "warm-keycloak", Services: 1, Image: probe}); err != nil {
		t.Fatal(err)
	}
	err := e.reconcile(t, "keycloak")
	if !controller.IsTerminal(err) {
		t.Fatalf("err = %v, want a terminal error: no retry helps until an operator acts", err)
	}
	if got := warmReady(getRecipe(t, e.st, "keycloak")); got != "False/"+warm.ReasonStackNotOwned {
		t.Errorf("WarmReady = %s", got)
	}
	if len(e.stacks.versions()) != 0 {
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
	create(t, e.st, canonicalRecipe("keycloak"))
	boom := errors.New("image pull failed")
	e.stacks.fail = boom
	if err := e.reconcile(t, "keycloak"); !errors.Is(err, boom) || controller.IsTerminal(err) {
		t.Fatalf("err = %v, want the deploy error, retryable", err)
	}
	rc := getRecipe(t, e.st, "keycloak")
	if got := warmReady(rc); got != "False/"+warm.ReasonDeployFailed || rc.Status.WarmStack.Ready {
		t.Errorf("WarmReady = %s, warmStack %+v", got, rc.Status.WarmStack)
	}
	e.stacks.fail = nil
	if err := e.reconcile(t, "keycloak"); err != nil {
		t.Fatal(err)
	}
	if got := warmReady(getRecipe(t, e.st, "keycloak")); got != "True/"+warm.ReasonConverged {
		t.Errorf("WarmReady after retry = %s", got)
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
	if got := warmReady(getRecipe(t, e.st, "fresh")); got != "False/"+warm.ReasonNoCanonical {
		t.Errorf("WarmReady = %s", got)
	}
	if len(e.stacks.versions()) != 0 {
		t.Error("deployed without a canonical")
	}
}
