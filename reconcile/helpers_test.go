package reconcile

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/internal/mask"
	"github.com/swarmrun/swarmrun/internal/testkit"
	"github.com/swarmrun/swarmrun/warm"
)

const (
	probe1 = testkit.ProbeV1
	probe2 = testkit.ProbeV2
)

// repoVersion is one commit of the test recipe (testkit.Version).
type repoVersion = testkit.Version

// recipeRepo builds the test recipe (testkit.Recipe) and returns its path and commits.
func recipeRepo(t testing.TB, branch string, versions ...repoVersion) (string, []string) {
	t.Helper()
	r, commits := testkit.Recipe(t, branch, versions...)
	return r.Dir, commits
}

// standardRepo is the acceptance recipe (testkit.Standard).
func standardRepo(t testing.TB, branch string) (string, []string) {
	t.Helper()
	return testkit.Standard(t, branch)
}

// fakeChecks passes every check, or fails those named in fail, and records what ran.
type fakeChecks struct {
	mu   sync.Mutex
	fail map[string]bool
	ran  []string
	// echo, when set, is the output and message of every check, unmasked, as a check that
	// prints what it was given would return it.
	echo string
}

func (c *fakeChecks) Run(_ context.Context, stack string, ch v1alpha1.Check, _ map[string]string, m *mask.Masker) v1alpha1.CheckResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ran = append(c.ran, ch.Name)
	res := v1alpha1.CheckResult{Name: ch.Name, Result: v1alpha1.ResultPassed, Output: m.String("ok")}
	if c.fail[ch.Name] {
		res.Result, res.Message = v1alpha1.ResultFailed, "exit code 1"
	}
	if c.echo != "" {
		res.Output, res.Message = c.echo, res.Message+": "+c.echo
	}
	return res
}

// fakeEnv is a reconciler over a real store and the real deploy on the fake engine.
type fakeEnv struct {
	t        *testing.T
	store    *store.Store
	engine   *fake.Fake
	deployer *deploy.Deployer
	dataDir  string
	checks   *fakeChecks
	rec      *TestRunReconciler
	clock    *fake.Clock
	// wrap, when set, stands between the reconciler and the store.
	wrap func(Store) Store
	// observer, when set, is the reconcilers' Observer.
	observer Observer
}

func newFakeEnv(t *testing.T) *fakeEnv {
	t.Helper()
	dataDir := t.TempDir()
	st, err := store.Open(filepath.Join(dataDir, "swarmrun.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &fakeEnv{
		t:       t,
		store:   st,
		engine:  fake.New(fake.Options{Images: []string{probe1, probe2}, FastRollouts: true}),
		dataDir: dataDir,
		checks:  &fakeChecks{fail: map[string]bool{}},
	}
	e.deployer = deploy.New(deploy.Options{Engine: e.engine, PollInterval: time.Millisecond})
	e.rec = e.reconciler()
	return e
}

// reconciler returns a fresh reconciler over the env's store, engine and data dir, as a
// restarted controller would build it.
func (e *fakeEnv) reconciler() *TestRunReconciler {
	e.t.Helper()
	now := time.Now
	if e.clock != nil {
		now = e.clock.Now
	}
	var objects Store = e.store
	if e.wrap != nil {
		objects = e.wrap(e.store)
	}
	// The judge compares the fake engine's task timestamps, which are on the wall clock.
	pipeline, err := stack.New(stack.Options{Engine: e.engine, Deployer: e.deployer, DataDir: e.dataDir, Stable: -1})
	if err != nil {
		e.t.Fatal(err)
	}
	rec, err := NewTestRunReconciler(Options{
		Store:     objects,
		Stacks:    pipeline,
		Checks:    e.checks,
		DataDir:   e.dataDir,
		Now:       now,
		Promoter:  warm.NewPromoter(warm.PromoterOptions{Objects: e.store, Now: now}),
		CheckPoll: time.Millisecond,
		// The fake's tasks do not change after a restore: no settle window to wait out.
		RestoreSettle: time.Millisecond,
		WarmPoll:      time.Millisecond,
		Observer:      e.observer,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(rec.Stop)
	return rec
}

func (e *fakeEnv) apply(objs ...v1alpha1.Object) {
	e.t.Helper()
	for _, o := range objs {
		if _, err := e.store.Apply(e.t.Context(), o); err != nil {
			e.t.Fatal(err)
		}
	}
}

func newRecipe(name, url string) *v1alpha1.Recipe {
	rc := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: name}, Spec: v1alpha1.RecipeSpec{Source: v1alpha1.RecipeSource{URL: url}}}
	rc.Default()
	rc.Spec.Timeouts.Deploy = &v1alpha1.Duration{Duration: time.Minute}
	return rc
}

func newTestRun(name, rc, head string) *v1alpha1.TestRun {
	tr := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: name}, Spec: v1alpha1.TestRunSpec{Recipe: rc, Head: head}}
	tr.Default()
	tr.Spec.Timeout = &v1alpha1.Duration{Duration: 5 * time.Minute}
	return tr
}

func overlay(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reconcileDone reconciles name step by step, as the controller would (waiting out short
// RequeueAfters), until its verdict is in and nothing more is asked for (its teardown is
// done), at most steps times; it fails on an error that is not expected to be retried.
func (e *fakeEnv) reconcileDone(rec *TestRunReconciler, name string, steps int) *v1alpha1.TestRun {
	e.t.Helper()
	req := controller.Request{Kind: v1alpha1.KindTestRun, Name: name}
	var err error
	for range steps {
		var res controller.Result
		res, err = rec.Reconcile(e.t.Context(), req)
		tr := e.get(name)
		if err == nil && tr != nil && finished(tr) && res.IsZero() {
			return tr
		}
		if res.RequeueAfter > 0 {
			time.Sleep(min(res.RequeueAfter, 20*time.Millisecond))
		}
	}
	e.t.Fatalf("testrun %s not finished after %d steps (last error %v): %s", name, steps, err, e.describe(name))
	return nil
}

// steps is enough reconcile steps for a run on the fake engine.
const steps = 500

func (e *fakeEnv) get(name string) *v1alpha1.TestRun {
	e.t.Helper()
	tr := &v1alpha1.TestRun{}
	if err := e.store.Get(e.t.Context(), name, tr); err != nil {
		return nil
	}
	return tr
}

func (e *fakeEnv) describe(name string) string {
	tr := e.get(name)
	if tr == nil {
		return "(gone)"
	}
	b, _ := json.MarshalIndent(tr.Status, "", "  ")
	return string(b)
}

func condition(tr *v1alpha1.TestRun, typ string) v1alpha1.Condition {
	if c := apimeta.FindStatusCondition(tr.Status.Conditions, typ); c != nil {
		return *c
	}
	return v1alpha1.Condition{}
}

// prRepo is a recipe with 0.1.0+1, a target branch tip past it (still probe 1 with
// sidekiq), and a branch pr off the tip that moves to probe 2 and drops sidekiq.
func prRepo(t *testing.T, branch string) (string, []string) {
	t.Helper()
	dir, commits := recipeRepo(t, branch,
		repoVersion{Image: probe1, Version: "0.1.0+1", Sidekiq: true, Tag: "0.1.0+1"},
		repoVersion{Image: probe1, Version: "0.1.1+1", Sidekiq: true},
		repoVersion{Image: probe2, Version: "0.2.0+2"},
	)
	git(t, dir, "checkout", "-q", "-b", "pr")
	git(t, dir, "branch", "-f", branch, commits[1])
	return dir, commits
}

func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// hasPassed reports whether the check called name is among checks, passed.
func hasPassed(checks []v1alpha1.CheckResult, name string) bool {
	for _, c := range checks {
		if c.Name == name {
			return c.Result == v1alpha1.ResultPassed
		}
	}
	return false
}

// reconcileStep takes one reconcile step of name, as the controller would, and fails on an
// error.
func (e *fakeEnv) reconcileStep(name string) controller.Result {
	e.t.Helper()
	res, err := e.rec.Reconcile(e.t.Context(), controller.Request{Kind: v1alpha1.KindTestRun, Name: name})
	if err != nil {
		e.t.Fatalf("reconcile %s: %v", name, err)
	}
	return res
}
