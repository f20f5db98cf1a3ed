//go:build integration

package reconcile

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/internal/testkit"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
	"github.com/swarmrun/swarmrun/reconcile/results"
)

// swarmEnv runs TestRuns through the whole controller against the real swarm.
type swarmEnv struct {
	t      *testing.T
	docker deploy.Engine
	// removeStack removes a stack's objects, as the tests' cleanup.
	removeStack func(ctx context.Context, stack string) error
	store       *store.Store
	dataDir     string
}

func newSwarmEnv(t *testing.T) *swarmEnv {
	t.Helper()
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, probe1, probe2)
	dataDir := t.TempDir()
	st, err := store.Open(filepath.Join(dataDir, "swarmrun.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &swarmEnv{t: t, docker: c, store: st, dataDir: dataDir,
		removeStack: func(ctx context.Context, stack string) error { return swarmtest.RemoveStack(ctx, c, stack, true) }}
}

// run stores rc and the TestRuns, registers the removal of their stacks, runs a controller
// until every TestRun has its verdict and its teardown is done, and returns them.
func (e *swarmEnv) run(rc *v1alpha1.Recipe, trs ...*v1alpha1.TestRun) []*v1alpha1.TestRun {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 3*time.Minute)
	defer cancel()
	e.apply(ctx, rc, trs...)
	done := make(chan error, 1)
	go func() {
		done <- testController{Store: e.store, Engine: e.docker, DataDir: e.dataDir,
			Workers: len(trs), MinBackoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second, Promotion: true}.run(ctx)
	}()
	out := e.awaitFinished(ctx, trs...)
	cancel()
	if err := <-done; err != nil {
		e.t.Errorf("controller: %v", err)
	}
	return out
}

// apply stores rc (when set) and the TestRuns, and registers the removal of their stacks.
func (e *swarmEnv) apply(ctx context.Context, rc *v1alpha1.Recipe, trs ...*v1alpha1.TestRun) {
	e.t.Helper()
	if rc != nil {
		if _, err := e.store.Apply(ctx, rc); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, tr := range trs {
		if _, err := e.store.Apply(ctx, tr); err != nil {
			e.t.Fatal(err)
		}
		stack := StackName(tr)
		e.t.Cleanup(func() {
			rm, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := e.removeStack(rm, stack); err != nil {
				e.t.Errorf("remove stack %s: %v", stack, err)
			}
		})
	}
}

// awaitFinished waits until every TestRun has its verdict and its teardown is done, and
// returns them.
func (e *swarmEnv) awaitFinished(ctx context.Context, trs ...*v1alpha1.TestRun) []*v1alpha1.TestRun {
	e.t.Helper()
	out := make([]*v1alpha1.TestRun, len(trs))
	testkit.Eventually(e.t, 150*time.Second, 200*time.Millisecond, func() bool {
		for i, tr := range trs {
			got := &v1alpha1.TestRun{}
			if err := e.store.Get(ctx, tr.Name, got); err != nil || !finished(got) {
				return false
			}
			out[i] = got
		}
		return true
	}, "testruns not finished")
	for _, tr := range out {
		if tr.Spec.Teardown == v1alpha1.TeardownAlways {
			e.awaitGone(tr.Status.Stack)
		}
	}
	return out
}

// awaitGone waits until nothing of the stack is left.
func (e *swarmEnv) awaitGone(stack string) {
	e.t.Helper()
	d := deploy.New(deploy.Options{Engine: e.docker})
	var state *deploy.StackState
	testkit.Eventually(e.t, time.Minute, 250*time.Millisecond, func() bool {
		var err error
		state, err = d.Observe(e.t.Context(), stack)
		return err == nil && !state.Exists()
	}, "stack %s not torn down", stack)
}

func (e *swarmEnv) observe(stack string) *deploy.StackState {
	e.t.Helper()
	state, err := deploy.New(deploy.Options{Engine: e.docker}).Observe(e.t.Context(), stack)
	if err != nil {
		e.t.Fatal(err)
	}
	return state
}

// dataChecks write a value before the upgrade and read it back after it, through the app's
// volume, and check the head's version answers.
func dataChecks() v1alpha1.Checks {
	return v1alpha1.Checks{
		Install: []v1alpha1.Check{{Name: "home", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/healthz"}}},
		Upgrade: v1alpha1.UpgradeChecks{
			Before: []v1alpha1.Check{{Name: "write", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/data/k",
				Method: "PUT", Body: "kept-across-upgrade", ExpectStatus: 204}}},
			After: []v1alpha1.Check{
				{Name: "read", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/data/k", Contains: "kept-across-upgrade"}},
				{Name: "version", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/version", Contains: "2"}},
			},
		},
	}
}

func runName(t *testing.T, prefix string) string {
	t.Helper()
	return "it-" + prefix + "-" + strings.ToLower(strings.ReplaceAll(time.Now().Format("150405.000"), ".", ""))
}

func requireSucceeded(t *testing.T, tr *v1alpha1.TestRun) {
	t.Helper()
	if c := condition(tr, v1alpha1.ConditionSucceeded); c.Status != v1alpha1.ConditionTrue {
		t.Fatalf("%s: Succeeded = %s %s: %s", tr.Name, c.Status, c.Reason, c.Message)
	}
}

// Acceptance 1 and 9: a canonical version base, an upgrade that changes the image and drops a
// service, data written before the upgrade read after it, results and level written.
func TestSwarmCanonicalBaseUpgrade(t *testing.T) {
	t.Parallel()
	e := newSwarmEnv(t)
	url, commits := standardRepo(t, "main")
	rc := newRecipe("canon", url)
	rc.Spec.Checks = dataChecks()
	if _, err := e.store.Apply(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
	rc.Status.Canonical = &v1alpha1.Canonical{Version: "0.1.0+1", Commit: commits[0], Status: "green"}
	if err := e.store.UpdateStatus(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
	tr := newTestRun(runName(t, "canon"), "canon", "")
	tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}
	got := e.run(rc, tr)[0]

	requireSucceeded(t, got)
	if b := got.Status.Base; b.Kind != v1alpha1.BaseVersion || b.Version != "0.1.0+1" {
		t.Errorf("base = %+v, want version 0.1.0+1", b)
	}
	if !slices.Equal(got.Status.Pruned, []string{got.Status.Stack + "_sidekiq"}) {
		t.Errorf("pruned = %v", got.Status.Pruned)
	}
	if !conditionTrue(v1alpha1.ConditionVerified)(got) {
		t.Errorf("not verified")
	}
	up := got.Status.Tiers["upgrade"]
	if up.Result != v1alpha1.ResultPassed || !hasPassed(up.Checks, "after: read") || !hasPassed(up.Checks, "before: write") {
		t.Errorf("upgrade tier = %+v", up)
	}
	if got.Status.Level != 2 {
		t.Errorf("level = %d, want 2 (install, upgrade; backup not asked for)", got.Status.Level)
	}
	for _, f := range []string{results.JSONFile, results.JUnitFile, results.SummaryFile} {
		if _, err := os.Stat(filepath.Join(results.Dir(e.dataDir, got.Name), f)); err != nil {
			t.Errorf("result %s: %v", f, err)
		}
	}
}

// Acceptance 2: no canonical, so the base is the target branch tip, for main and for master.
func TestSwarmBranchTipBase(t *testing.T) {
	t.Parallel()
	for _, branch := range []string{"main", "master"} {
		t.Run(branch, func(t *testing.T) {
			t.Parallel()
			e := newSwarmEnv(t)
			url, commits := prRepo(t, branch)
			rc := newRecipe("tip"+branch, url)
			tr := newTestRun(runName(t, "tip"+branch[:2]), rc.Name, "pr")
			tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}
			got := e.run(rc, tr)[0]
			requireSucceeded(t, got)
			b := got.Status.Base
			if b.Kind != v1alpha1.BaseRef || b.Ref != branch || b.Commit != commits[1] {
				t.Errorf("base = %+v, want ref %s at %s", b, branch, commits[1])
			}
			if got.Status.Head.Commit != commits[2] {
				t.Errorf("head = %+v, want %s", got.Status.Head, commits[2])
			}
			if !slices.Equal(got.Status.Pruned, []string{got.Status.Stack + "_sidekiq"}) {
				t.Errorf("pruned = %v", got.Status.Pruned)
			}
		})
	}
}

// Acceptance 3: without the upgrade stage, or with upgrade declared not applicable, there is
// no base: install deploys the head directly.
func TestSwarmNoBase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		prep func(*v1alpha1.Recipe, *v1alpha1.TestRun)
		want v1alpha1.TierResultValue
	}{
		{"not in stages", func(_ *v1alpha1.Recipe, tr *v1alpha1.TestRun) {
			tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall}
		}, v1alpha1.ResultSkipped},
		{"not applicable", func(rc *v1alpha1.Recipe, _ *v1alpha1.TestRun) {
			rc.Spec.ExpectedNotApplicable = map[v1alpha1.Stage]string{v1alpha1.StageUpgrade: "no state to migrate"}
		}, v1alpha1.ResultNotApplicable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newSwarmEnv(t)
			url, commits := standardRepo(t, "main")
			rc := newRecipe("nobase", url)
			tr := newTestRun(runName(t, "nobase"), rc.Name, "")
			tc.prep(rc, tr)
			got := e.run(rc, tr)[0]
			requireSucceeded(t, got)
			if got.Status.Base.Kind != v1alpha1.BaseNone {
				t.Errorf("base = %+v, want none", got.Status.Base)
			}
			if len(got.Status.Deploys) != 1 || got.Status.Deploys[0].Role != roleHead || got.Status.Deploys[0].Commit != commits[1] {
				t.Errorf("deploys = %+v, want the head only", got.Status.Deploys)
			}
			if r := got.Status.Tiers["upgrade"].Result; r != tc.want {
				t.Errorf("upgrade tier = %s, want %s", r, tc.want)
			}
		})
	}
}

// Acceptance 4 and 5: an explicit upgradeBase wins over the canonical; a canonical at the
// head's version steps back to the newest older tag.
func TestSwarmBaseChoice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, canonical, upgradeBase, head, wantVersion string
	}{
		{"explicit wins", "0.2.0+2", "0.1.0+1", "pr", "0.1.0+1"},
		{"canonical is head", "0.2.0+2", "", "0.2.0+2", "0.1.0+1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newSwarmEnv(t)
			url, commits := recipeRepo(t, "main",
				repoVersion{Image: probe1, Version: "0.1.0+1", Sidekiq: true, Tag: "0.1.0+1"},
				repoVersion{Image: probe2, Version: "0.2.0+2", Tag: "0.2.0+2"},
				repoVersion{Image: probe2, Version: "0.2.1+2"},
			)
			git(t, url, "branch", "pr")
			rc := newRecipe("choice", url)
			if _, err := e.store.Apply(t.Context(), rc); err != nil {
				t.Fatal(err)
			}
			rc.Status.Canonical = &v1alpha1.Canonical{Version: tc.canonical, Commit: commits[1], Status: "green"}
			if err := e.store.UpdateStatus(t.Context(), rc); err != nil {
				t.Fatal(err)
			}
			tr := newTestRun(runName(t, "choice"), rc.Name, tc.head)
			tr.Spec.UpgradeBase = tc.upgradeBase
			tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}
			got := e.run(rc, tr)[0]
			requireSucceeded(t, got)
			if b := got.Status.Base; b.Kind != v1alpha1.BaseVersion || b.Version != tc.wantVersion || b.Commit != commits[0] {
				t.Errorf("base = %+v, want version %s", b, tc.wantVersion)
			}
		})
	}
}

// Acceptance 6 and 7, the field bug: a base-only repair that pins the old image, re-adds the
// dropped service and sets a marker applies to the version base it names and never reaches
// the head: the head runs its own image, the dropped service is gone, the marker too.
func TestSwarmPreviousOnlyOnBase(t *testing.T) {
	t.Parallel()
	e := newSwarmEnv(t)
	url, _ := standardRepo(t, "main")
	rc := newRecipe("prev", url)
	rc.Spec.Previous = &v1alpha1.Previous{
		Version: "0.1.0+1",
		Env:     map[string]string{"PREV_MARK": "base-only"},
		Overlays: []json.RawMessage{overlay(t, map[string]any{"services": map[string]any{
			"app": map[string]any{"image": probe1, "environment": map[string]string{"MARK": "${PREV_MARK}"}},
			"sidekiq": map[string]any{"image": probe1, "command": []string{"-sleep", "0"},
				"deploy": map[string]any{"update_config": map[string]any{"order": "start-first", "monitor": "1s"}}},
		}})},
	}
	rc.Spec.Checks.Upgrade = v1alpha1.UpgradeChecks{
		Before: []v1alpha1.Check{{Name: "marked", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/env/MARK", Contains: "base-only"}}},
		After:  []v1alpha1.Check{{Name: "unmarked", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/env/MARK", ExpectStatus: 404}}},
	}
	tr := newTestRun(runName(t, "prev"), rc.Name, "0.2.0+2")
	tr.Spec.UpgradeBase = "0.1.0+1"
	tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}
	tr.Spec.Teardown = v1alpha1.TeardownNever
	got := e.run(rc, tr)[0]
	requireSucceeded(t, got)
	if !strings.Contains(got.Status.Base.Previous, "applies") {
		t.Errorf("base previous = %q", got.Status.Base.Previous)
	}
	state := e.observe(got.Status.Stack)
	app, ok := state.Service(got.Status.Stack + "_app")
	if !ok || app.ComposeImage != probe2 || !sameImage(app.Image, probe2) {
		t.Errorf("app = %+v, want the head's image %s", app, probe2)
	}
	if _, ok := state.Service(got.Status.Stack + "_sidekiq"); ok {
		t.Errorf("sidekiq still runs after the upgrade")
	}
	if label := app.Labels["coop-cloud."+got.Status.Stack+".chaos-version"]; label != got.Status.Head.ChaosVersion {
		t.Errorf("chaos-version label %q, want %q", label, got.Status.Head.ChaosVersion)
	}
}

// Acceptance 8: a head whose image does not exist fails the upgrade tier with an image
// reason, the run is red at level 1, and the teardown leaves nothing.
func TestSwarmBrokenHead(t *testing.T) {
	t.Parallel()
	e := newSwarmEnv(t)
	url, _ := recipeRepo(t, "main",
		repoVersion{Image: probe1, Version: "0.1.0+1", Sidekiq: true, Tag: "0.1.0+1"},
		repoVersion{Image: "swarmrun-probe:does-not-exist", Version: "0.2.0+2"},
	)
	rc := newRecipe("broken", url)
	tr := newTestRun(runName(t, "broken"), rc.Name, "")
	tr.Spec.UpgradeBase = "0.1.0+1"
	got := e.run(rc, tr)[0]
	c := condition(got, v1alpha1.ConditionSucceeded)
	if c.Status != v1alpha1.ConditionFalse || c.Reason != v1alpha1.ReasonImagePullFailed {
		t.Fatalf("Succeeded = %s %s: %s", c.Status, c.Reason, c.Message)
	}
	if !strings.Contains(c.Message, "does-not-exist") {
		t.Errorf("message does not name the image: %s", c.Message)
	}
	if r := got.Status.Tiers["upgrade"].Result; r != v1alpha1.ResultFailed {
		t.Errorf("upgrade tier = %s", r)
	}
	if got.Status.Level != 1 {
		t.Errorf("level = %d, want 1", got.Status.Level)
	}
	if state := e.observe(got.Status.Stack); state.Exists() {
		t.Errorf("stack left: %+v", state)
	}
}

// Acceptance 11: two runs of one recipe with different heads at once each deploy and stamp
// their own head commit.
func TestSwarmConcurrentHeads(t *testing.T) {
	t.Parallel()
	e := newSwarmEnv(t)
	url, commits := prRepo(t, "main")
	rc := newRecipe("conc", url)
	a := newTestRun(runName(t, "conca"), rc.Name, "pr")
	b := newTestRun(runName(t, "concb"), rc.Name, commits[1])
	b.Spec.UpgradeBase = "0.1.0+1"
	for _, tr := range []*v1alpha1.TestRun{a, b} {
		tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}
	}
	got := e.run(rc, a, b)
	for i, want := range []string{commits[2], commits[1]} {
		requireSucceeded(t, got[i])
		h := got[i].Status.Head
		if h.Commit != want || h.ChaosVersion != want[:8] {
			t.Errorf("%s: head = %+v, want %s", got[i].Name, h, want)
		}
		if d := deployRecord(got[i], roleHead); d == nil || d.Commit != want {
			t.Errorf("%s: head deploy = %+v", got[i].Name, d)
		}
	}
}
