//go:build integration

package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/internal/testkit"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/warm"
)

// serve runs the TestRun controller and the Recipe controller (with WarmStacks) over the
// env's store, as swarmrun serve does, until the test ends.
func (e *swarmEnv) serve() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(e.t.Context())
	errs := make(chan error, 1)
	go func() {
		errs <- testController{Store: e.store, Engine: e.docker, DataDir: e.dataDir, Workers: 2, Promotion: true, Warm: true,
			MinBackoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second}.run(ctx)
	}()
	e.t.Cleanup(func() {
		cancel()
		if err := <-errs; err != nil {
			e.t.Errorf("controller: %v", err)
		}
	})
}

// uniqueRecipe is a recipe name no other test or run uses, so that its warm stack is this
// test's alone.
func uniqueRecipe(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// checkLabels polls the run stack for the one-shot service of a check, and returns the
// labels of the first it sees.
func (e *swarmEnv) checkLabels(ctx context.Context, stack string) func() map[string]string {
	var (
		mu   sync.Mutex
		seen map[string]string
	)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			st, err := inventory.ListStack(ctx, e.docker, stack)
			if err == nil {
				for _, s := range st.Services {
					if s.Labels[v1alpha1.LabelRole] == v1alpha1.RoleCheck {
						mu.Lock()
						seen = maps.Clone(s.Labels)
						mu.Unlock()
						return
					}
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() map[string]string {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

// Acceptance 1 of issue 5: a green cold run of the newest tag of a warm recipe writes the
// canonical, warm-<recipe> converges to that version, and the next TestRun's base is that
// version. An older tag, and a branch head, do not promote, with the reason as an event.
// Turning warm off removes the warm stack and keeps its volumes.
func TestSwarmWarmPromotion(t *testing.T) {
	t.Parallel()
	e := newSwarmEnv(t)
	e.serve()
	url, commits := warmRepo(t)
	name := uniqueRecipe(t, "wp")
	stack := warm.StackName(name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.removeStack(ctx, stack); err != nil {
			t.Errorf("remove %s: %v", stack, err)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	rc := newRecipe(name, url)
	rc.Spec.Warm = true
	// The job holds the check's one-shot service long enough to see its labels.
	rc.Spec.Checks.Install = []v1alpha1.Check{{Name: "hold", Job: &v1alpha1.JobCheck{Image: probe1, Command: []string{"-sleep", "2s"}}}}
	green := newTestRun(runName(t, "wpg"), name, "0.2.0+2")
	older := newTestRun(runName(t, "wpo"), name, "0.1.0+1")
	for _, tr := range []*v1alpha1.TestRun{green, older} {
		tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall}
	}
	start := time.Now()
	e.apply(ctx, rc, green, older)
	labels := e.checkLabels(ctx, StackName(green)) // the stack's name needs the stored UID
	got := e.awaitFinished(ctx, green, older)
	verdicts := time.Now()

	requireSucceeded(t, got[0])
	if c := condition(got[0], v1alpha1.ConditionPromoted); c.Status != v1alpha1.ConditionTrue {
		t.Errorf("green run of the newest tag: Promoted = %s %s: %s", c.Status, c.Reason, c.Message)
	}
	if l := labels(); l[v1alpha1.LabelTestRun] != green.Name || l[v1alpha1.LabelManagedBy] != v1alpha1.ManagedByValue {
		t.Errorf("check service labels %v, want testrun=%s and managed-by", l, green.Name)
	}
	requireSucceeded(t, got[1])
	requireNotPromoted(t, e, got[1], "older than the newest published version 0.2.0+2")

	// The canonical record, then the warm stack at it.
	var rec *v1alpha1.Recipe
	testkit.Eventually(t, 90*time.Second, 250*time.Millisecond, func() bool {
		rec = &v1alpha1.Recipe{}
		if err := e.store.Get(ctx, name, rec); err != nil {
			return false
		}
		ws := rec.Status.WarmStack
		return ws != nil && ws.Ready && ws.Version == "0.2.0+2"
	}, "warm stack never ready at 0.2.0+2")
	if c := apimeta.FindStatusCondition(rec.Status.Conditions, v1alpha1.ConditionWarmReady); c != nil {
		t.Logf("runs finished and torn down %s after their creation; the warm stack was ready %s after the green verdict (1s resolution)",
			verdicts.Sub(start).Round(time.Millisecond), c.LastTransitionTime.Sub(got[0].Status.CompletedAt.Time).Round(time.Second))
	}
	if c := rec.Status.Canonical; c == nil || c.Version != "0.2.0+2" || c.Commit != commits[1] || c.Run != green.Name {
		t.Errorf("canonical = %+v, want 0.2.0+2 at %s by %s", c, commits[1], green.Name)
	}
	if !apimeta.IsStatusConditionTrue(rec.Status.Conditions, v1alpha1.ConditionWarmReady) {
		t.Errorf("WarmReady not True: %+v", rec.Status.Conditions)
	}
	state := e.observe(stack)
	app, ok := state.Service(stack + "_app")
	if !ok || app.ComposeImage != probe2 || !sameImage(app.Image, probe2) || app.Labels[recipe.LabelVersion(stack)] != "0.2.0+2" {
		t.Errorf("warm app = %+v, want %s at 0.2.0+2", app, probe2)
	}
	for k, v := range map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelWarm: name, v1alpha1.LabelRole: v1alpha1.RoleWarm} {
		if app.Labels[k] != v {
			t.Errorf("warm app label %s = %q, want %q", k, app.Labels[k], v)
		}
	}
	if app.Running == 0 {
		t.Errorf("warm app runs no task")
	}

	// The next run upgrades from the canonical; its head is a branch: no promotion.
	next := newTestRun(runName(t, "wpn"), name, "")
	next.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}
	start = time.Now()
	e.apply(ctx, nil, next)
	n := e.awaitFinished(ctx, next)[0]
	t.Logf("the upgrade run from the canonical took %s", time.Since(start).Round(time.Millisecond))
	requireSucceeded(t, n)
	if b := n.Status.Base; b.Kind != v1alpha1.BaseVersion || b.Version != "0.2.0+2" || b.Commit != commits[1] {
		t.Errorf("next run's base = %+v, want the canonical 0.2.0+2", b)
	}
	requireNotPromoted(t, e, n, "is a branch or commit, not a release tag")

	// Warm off: the stack goes, its volumes stay.
	rec = &v1alpha1.Recipe{}
	if err := e.store.Get(ctx, name, rec); err != nil {
		t.Fatal(err)
	}
	rec.Spec.Warm = false
	start = time.Now()
	if err := e.store.Update(ctx, rec); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Minute, 250*time.Millisecond, func() bool {
		s, err := deploy.New(deploy.Options{Engine: e.docker}).Observe(ctx, stack)
		return err == nil && len(s.Services)+len(s.Networks)+len(s.Secrets) == 0
	}, "warm stack %s not removed after warm was turned off", stack)
	t.Logf("warm stack removed %s after warm was turned off", time.Since(start).Round(time.Millisecond))
	if vols := e.observe(stack).Volumes; !slices.Contains(vols, stack+"_data") {
		t.Errorf("volumes of %s after the removal: %v, want %s_data kept", stack, vols, stack)
	}
	testkit.Eventually(t, 30*time.Second, 250*time.Millisecond, func() bool {
		rec = &v1alpha1.Recipe{}
		if err := e.store.Get(ctx, name, rec); err != nil {
			return false
		}
		c := apimeta.FindStatusCondition(rec.Status.Conditions, v1alpha1.ConditionWarmReady)
		return rec.Status.WarmStack == nil && c != nil && c.Reason == v1alpha1.ReasonNotEnrolled
	}, "recipe status does not say the warm stack is gone")
}

// requireNotPromoted checks that a run did not promote, with why in its Promoted condition
// and in a NotPromoted event on it.
func requireNotPromoted(t *testing.T, e *swarmEnv, tr *v1alpha1.TestRun, why string) {
	t.Helper()
	if c := condition(tr, v1alpha1.ConditionPromoted); c.Status != v1alpha1.ConditionFalse || !strings.Contains(c.Message, why) {
		t.Errorf("%s: Promoted = %s %s %q, want False saying %q", tr.Name, c.Status, c.Reason, c.Message, why)
	}
	evs, err := e.store.Events(t.Context(), v1alpha1.KindTestRun, tr.Name)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(ev v1alpha1.Event) bool {
		return ev.Reason == v1alpha1.ReasonNotPromoted && strings.Contains(ev.Message, why)
	}) {
		t.Errorf("%s: no NotPromoted event saying %q in %+v", tr.Name, why, evs)
	}
}
