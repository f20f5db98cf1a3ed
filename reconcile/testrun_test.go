package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy/fake"
)

// crashAt makes the next reconcile stop, as a killed controller would, at the first engine
// call made once the stored TestRun satisfies at: the call fails and the reconcile's context
// is cancelled. It returns that context.
func (e *fakeEnv) crashAt(name string, at func(*v1alpha1.TestRun) bool) (context.Context, func() bool) {
	return e.crashOn(name, func(tr *v1alpha1.TestRun, _ fake.Call, _ int) bool { return at(tr) })
}

// crashOn is crashAt with a condition that also sees the engine call about to be made and
// how many calls of its method the hook has seen, this one included. deploy makes calls from
// several goroutines at once (services are created in parallel): the hook takes them one at
// a time, so that exactly one call crashes and the count is the order the hook saw them in.
func (e *fakeEnv) crashOn(name string, at func(*v1alpha1.TestRun, fake.Call, int) bool) (context.Context, func() bool) {
	ctx, cancel := context.WithCancel(e.t.Context())
	var (
		mu      sync.Mutex
		crashed bool
		seen    = map[string]int{}
	)
	e.engine.SetHook("*", func(_ context.Context, call fake.Call) error {
		mu.Lock()
		defer mu.Unlock()
		if crashed {
			return context.Canceled
		}
		seen[call.Method]++
		if tr := e.get(name); tr != nil && at(tr, call, seen[call.Method]) {
			crashed = true
			cancel()
			return context.Canceled
		}
		return nil
	})
	return ctx, func() bool {
		e.engine.SetHook("*", nil)
		mu.Lock()
		defer mu.Unlock()
		return crashed
	}
}

// untilCrash reconciles name step by step under ctx, the context crashOn returns, until the
// crash cancels it, and returns the error of the step that crashed.
func (e *fakeEnv) untilCrash(ctx context.Context, rec *TestRunReconciler, name string) error {
	e.t.Helper()
	req := controller.Request{Kind: v1alpha1.KindTestRun, Name: name}
	var err error
	for range steps {
		var res controller.Result
		res, err = rec.Reconcile(ctx, req)
		if ctx.Err() != nil {
			return err
		}
		if res.RequeueAfter > 0 {
			time.Sleep(min(res.RequeueAfter, 20*time.Millisecond))
		}
	}
	return err
}

// on is a crash condition on the stored TestRun alone.
func on(at func(*v1alpha1.TestRun) bool) func(*fakeEnv, *v1alpha1.TestRun, fake.Call, int) bool {
	return func(_ *fakeEnv, tr *v1alpha1.TestRun, _ fake.Call, _ int) bool { return at(tr) }
}

func recorded(role string) func(*v1alpha1.TestRun) bool {
	return func(tr *v1alpha1.TestRun) bool { return deployRecord(tr, role) != nil }
}

func TestCrashResumesWithoutSecondRollout(t *testing.T) {
	points := []struct {
		name string
		at   func(*fakeEnv, *v1alpha1.TestRun, fake.Call, int) bool
		// decided: the crash comes after the verdict, during the teardown.
		decided bool
		// refused and refusedUpdates count the ServiceCreate and ServiceUpdate calls the crash
		// made fail.
		refused, refusedUpdates int
	}{
		{"base apply", func(_ *fakeEnv, tr *v1alpha1.TestRun, c fake.Call, nth int) bool {
			// in the middle of the base's apply: one service created, the other refused
			return c.Method == "ServiceCreate" && !recorded(roleBase)(tr) && nth == 2
		}, false, 1, 0},
		// The crash comes at the first engine call once the record is stored: the first look.
		{"base applied, before its first look", on(func(tr *v1alpha1.TestRun) bool {
			return recorded(roleBase)(tr) && deployRecord(tr, roleBase).Convergence == nil
		}), false, 0, 0},
		{"base ready", on(conditionTrue(v1alpha1.ConditionBaseReady)), false, 0, 0},
		{"head apply", func(_ *fakeEnv, tr *v1alpha1.TestRun, c fake.Call, _ int) bool {
			return c.Method == "ServiceUpdate" && conditionTrue(v1alpha1.ConditionBaseReady)(tr) && !recorded(roleHead)(tr)
		}, false, 0, 1},
		{"head applied, before its first look", on(func(tr *v1alpha1.TestRun) bool {
			return recorded(roleHead)(tr) && deployRecord(tr, roleHead).Convergence == nil
		}), false, 0, 0},
		{"pruned", on(conditionTrue(v1alpha1.ConditionPruned)), false, 0, 0},
		{"teardown", on(finished), true, 0, 0},
	}
	for _, p := range points {
		t.Run(p.name, func(t *testing.T) {
			e := newFakeEnv(t)
			url, commits := standardRepo(t, "main")
			e.apply(newRecipe("demo", url))
			tr := newTestRun("demo-crash", "demo", "")
			tr.Spec.UpgradeBase = "0.1.0+1"
			e.apply(tr)

			ctx, stop := e.crashOn("demo-crash", func(tr *v1alpha1.TestRun, c fake.Call, nth int) bool { return p.at(e, tr, c, nth) })
			err := e.untilCrash(ctx, e.rec, "demo-crash")
			if !stop() {
				t.Fatalf("never reached the crash point (err %v): %s", err, e.describe("demo-crash"))
			}
			if err == nil {
				t.Fatalf("crashed reconcile returned no error")
			}
			if tr := e.get("demo-crash"); finished(tr) != p.decided {
				t.Fatalf("verdict decided = %t, want %t: %s", !p.decided, p.decided, e.describe("demo-crash"))
			}

			got := e.reconcileDone(e.reconciler(), "demo-crash", steps)
			if state, _ := e.deployer.Observe(t.Context(), got.Status.Stack); state.Exists() {
				t.Errorf("stack left after the restart: %+v", state)
			}
			if c := condition(got, v1alpha1.ConditionSucceeded); c.Status != v1alpha1.ConditionTrue {
				t.Fatalf("Succeeded = %s %s: %s", c.Status, c.Reason, c.Message)
			}
			// Base: app and sidekiq created once; head: app updated once; nothing else.
			if n := e.engine.Calls("ServiceCreate"); n != 2+p.refused {
				t.Errorf("ServiceCreate called %d times, want %d", n, 2+p.refused)
			}
			if n := e.engine.Calls("ServiceUpdate"); n != 1+p.refusedUpdates {
				t.Errorf("ServiceUpdate called %d times, want %d", n, 1+p.refusedUpdates)
			}
			base, head := deployRecord(got, roleBase), deployRecord(got, roleHead)
			// The records say what the first apply did, even when it crashed before storing it.
			if base == nil || len(base.Created) != 2 || head == nil || len(head.Updated) != 1 || head.Commit != commits[1] {
				t.Errorf("deploy records: base %+v, head %+v", base, head)
			}
			if !slices.Equal(got.Status.Pruned, []string{got.Status.Stack + "_sidekiq"}) {
				t.Errorf("pruned = %v", got.Status.Pruned)
			}
		})
	}
}

func TestTimeoutFailsAndTearsDown(t *testing.T) {
	e := newFakeEnv(t)
	e.clock = fake.NewClock(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	e.rec = e.reconciler()
	url, _ := standardRepo(t, "main")
	e.apply(newRecipe("demo", url))
	tr := newTestRun("demo-slow", "demo", "")
	tr.Spec.UpgradeBase = "0.1.0+1"
	e.apply(tr)

	ctx, stop := e.crashAt("demo-slow", conditionTrue(v1alpha1.ConditionBaseReady))
	_ = e.untilCrash(ctx, e.rec, "demo-slow")
	stop()
	e.clock.Advance(6 * time.Minute) // past spec.timeout (5m)

	got := e.reconcileDone(e.rec, "demo-slow", steps)
	c := condition(got, v1alpha1.ConditionSucceeded)
	if c.Status != v1alpha1.ConditionFalse || c.Reason != v1alpha1.ReasonTimeout {
		t.Fatalf("Succeeded = %s %s: %s", c.Status, c.Reason, c.Message)
	}
	if r := got.Status.Tiers["upgrade"].Result; r != v1alpha1.ResultFailed {
		t.Errorf("upgrade tier = %s, want failed", r)
	}
	if got.Status.Level != 1 {
		t.Errorf("level = %d, want 1", got.Status.Level)
	}
	if state, _ := e.deployer.Observe(t.Context(), got.Status.Stack); state.Exists() {
		t.Errorf("stack left after a timeout: %+v", state)
	}
}

// Deleting a TestRun in the middle of its run is the next step: the finalizer tears the stack
// down, whatever the policy, before the object goes, and the head is never applied.
func TestDeleteMidRunTearsDownFirst(t *testing.T) {
	e := newFakeEnv(t)
	url, _ := standardRepo(t, "main")
	e.apply(newRecipe("demo", url))
	tr := newTestRun("demo-del", "demo", "")
	tr.Spec.UpgradeBase = "0.1.0+1"
	tr.Spec.Teardown = v1alpha1.TeardownNever
	e.apply(tr)
	req := controller.Request{Kind: v1alpha1.KindTestRun, Name: "demo-del"}
	for range steps {
		if _, err := e.rec.Reconcile(t.Context(), req); err != nil {
			t.Fatal(err)
		}
		if cur := e.get("demo-del"); cur != nil && recorded(roleBase)(cur) {
			break
		}
	}
	if _, err := e.store.Delete(t.Context(), v1alpha1.KindTestRun, "demo-del"); err != nil {
		t.Fatal(err)
	}
	for range steps {
		res, err := e.rec.Reconcile(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if e.get("demo-del") == nil {
			break
		}
		time.Sleep(min(res.RequeueAfter, 20*time.Millisecond))
	}
	stack := StackName(tr)
	if e.engine.Calls("ServiceUpdate") != 0 {
		t.Errorf("the deletion did not stop the run: the head was applied")
	}
	if e.get("demo-del") != nil {
		t.Errorf("TestRun still there after its finalizer")
	}
	if state, _ := e.deployer.Observe(t.Context(), stack); state.Exists() {
		t.Errorf("stack left: %+v", state)
	}
	if _, err := os.Stat(filepath.Join(e.dataDir, "runs", "demo-del", roleBase)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("base directory left: %v", err)
	}
}

func TestRunOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		prep       func(t *testing.T, e *fakeEnv, rc *v1alpha1.Recipe, tr *v1alpha1.TestRun)
		wantStatus string
		wantReason string
		wantLevel  int
		check      func(t *testing.T, e *fakeEnv, tr *v1alpha1.TestRun)
	}{
		{
			name:       "missing recipe",
			prep:       func(_ *testing.T, _ *fakeEnv, _ *v1alpha1.Recipe, tr *v1alpha1.TestRun) { tr.Spec.Recipe = "nope" },
			wantStatus: "False", wantReason: v1alpha1.ReasonRecipeNotFound,
		},
		{
			name: "unknown head",
			prep: func(_ *testing.T, _ *fakeEnv, _ *v1alpha1.Recipe, tr *v1alpha1.TestRun) {
				tr.Spec.Head = "no-such-branch"
			},
			wantStatus: "False", wantReason: v1alpha1.ReasonSourceFailed,
		},
		{
			name: "previous stale on a branch tip base",
			prep: func(t *testing.T, _ *fakeEnv, rc *v1alpha1.Recipe, tr *v1alpha1.TestRun) {
				rc.Spec.Previous = &v1alpha1.Previous{Version: "0.1.0+1",
					Overlays: []json.RawMessage{overlay(t, map[string]any{"services": map[string]any{"app": map[string]any{"image": "swarmrun-probe:does-not-exist"}}})}}
				tr.Spec.Head, tr.Spec.UpgradeBase = "pr", ""
			},
			// install, upgrade, and backup + restore not applicable (the recipe has no
			// backupbot labels); custom has no checks.
			wantStatus: "True", wantReason: v1alpha1.ReasonSucceeded, wantLevel: 3,
			check: func(t *testing.T, e *fakeEnv, tr *v1alpha1.TestRun) {
				if c := condition(tr, v1alpha1.ConditionPreviousStale); c.Status != v1alpha1.ConditionTrue {
					t.Errorf("PreviousStale = %+v", c)
				}
				if tr.Status.Base.Kind != v1alpha1.BaseRef {
					t.Errorf("base = %+v", tr.Status.Base)
				}
				events, _ := e.store.Events(t.Context(), v1alpha1.KindTestRun, tr.Name)
				if !slices.ContainsFunc(events, func(ev v1alpha1.Event) bool { return ev.Reason == v1alpha1.ReasonPreviousStale }) {
					t.Errorf("no PreviousStale event in %+v", events)
				}
			},
		},
		{
			name: "previous stale on another version",
			prep: func(t *testing.T, _ *fakeEnv, rc *v1alpha1.Recipe, _ *v1alpha1.TestRun) {
				rc.Spec.Previous = &v1alpha1.Previous{Version: "0.0.9+1",
					Overlays: []json.RawMessage{overlay(t, map[string]any{"services": map[string]any{"app": map[string]any{"image": "swarmrun-probe:does-not-exist"}}})}}
			},
			wantStatus: "True", wantReason: v1alpha1.ReasonSucceeded, wantLevel: 3,
			check: func(t *testing.T, _ *fakeEnv, tr *v1alpha1.TestRun) {
				if c := condition(tr, v1alpha1.ConditionPreviousStale); c.Status != v1alpha1.ConditionTrue || !strings.Contains(c.Message, "0.1.0+1") {
					t.Errorf("PreviousStale = %+v", c)
				}
			},
		},
		{
			name: "install check fails",
			prep: func(_ *testing.T, e *fakeEnv, rc *v1alpha1.Recipe, _ *v1alpha1.TestRun) {
				rc.Spec.Checks.Install = []v1alpha1.Check{{Name: "home", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080}}}
				e.checks.fail["home"] = true
			},
			wantStatus: "False", wantReason: v1alpha1.ReasonCheckFailed, wantLevel: 0,
		},
		{
			name: "custom check fails, other tiers still run",
			prep: func(_ *testing.T, e *fakeEnv, rc *v1alpha1.Recipe, _ *v1alpha1.TestRun) {
				rc.Spec.Checks.Custom = []v1alpha1.Check{{Name: "topic", Exec: &v1alpha1.ExecCheck{Service: "app", Command: []string{"true"}}}}
				rc.Spec.Checks.Backup = []v1alpha1.Check{{Name: "dump", Exec: &v1alpha1.ExecCheck{Service: "app", Command: []string{"true"}}}}
				rc.Spec.ExpectedNotApplicable = map[v1alpha1.Stage]string{v1alpha1.StageRestore: "nothing to restore"}
				e.checks.fail["topic"] = true
			},
			wantStatus: "False", wantReason: v1alpha1.ReasonCheckFailed, wantLevel: 3,
			check: func(t *testing.T, _ *fakeEnv, tr *v1alpha1.TestRun) {
				if r := tr.Status.Tiers["backup"].Result; r != v1alpha1.ResultPassed {
					t.Errorf("backup = %s", r)
				}
				if r := tr.Status.Tiers["restore"].Result; r != v1alpha1.ResultNotApplicable {
					t.Errorf("restore = %s", r)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFakeEnv(t)
			url, _ := prRepo(t, "main")
			rc := newRecipe("demo", url)
			tr := newTestRun("demo-out", "demo", "")
			tr.Spec.UpgradeBase = "0.1.0+1"
			tt.prep(t, e, rc, tr)
			e.apply(rc, tr)
			got := e.reconcileDone(e.rec, "demo-out", steps)
			c := condition(got, v1alpha1.ConditionSucceeded)
			if string(c.Status) != tt.wantStatus || c.Reason != tt.wantReason {
				t.Fatalf("Succeeded = %s %s: %s", c.Status, c.Reason, c.Message)
			}
			if got.Status.Level != tt.wantLevel {
				t.Errorf("level = %d, want %d", got.Status.Level, tt.wantLevel)
			}
			if tt.check != nil {
				tt.check(t, e, got)
			}
		})
	}
}

func TestGeneratedSecretsAreMasked(t *testing.T) {
	e := newFakeEnv(t)
	url, _ := standardRepo(t, "main")
	e.apply(newRecipe("demo", url))
	tr := newTestRun("demo-sec", "demo", "")
	tr.Spec.Teardown = v1alpha1.TeardownNever
	e.apply(tr)
	var (
		mu     sync.Mutex
		values []string
	)
	e.engine.SetHook("SecretCreate", func(_ context.Context, c fake.Call) error {
		mu.Lock()
		defer mu.Unlock()
		values = append(values, string(c.Args[0].(swarm.SecretSpec).Data))
		return nil
	})
	got := e.reconcileDone(e.rec, "demo-sec", steps)
	name := got.Status.Stack + "_db_password_v1"
	state, err := e.deployer.Observe(t.Context(), got.Status.Stack)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(state.Secrets, []string{name}) {
		t.Fatalf("secrets = %v, want the generated %s in the stack", state.Secrets, name)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(values) != 1 || len(values[0]) != 24 {
		t.Fatalf("generated secrets %d, first of length %d; want one of 24 (the length hint)", len(values), len(values[0]))
	}
	if strings.Contains(e.describe("demo-sec"), values[0]) {
		t.Errorf("a generated secret is in the status")
	}
	events, _ := e.store.Events(t.Context(), v1alpha1.KindTestRun, "demo-sec")
	for _, ev := range events {
		if strings.Contains(ev.Message, values[0]) {
			t.Errorf("a generated secret is in event %s", ev.Reason)
		}
	}
}

// Values of secret-shaped keys an operator supplies (the Recipe's env, the TestRun's env) are
// masked wherever a check's output or message carries them: status, events and results.
func TestOperatorSecretsAreMasked(t *testing.T) {
	e := newFakeEnv(t)
	url, _ := standardRepo(t, "main")
	rc := newRecipe("demo", url)
	rc.Spec.Env = map[string]string{"SMTP_PASSWORD": "recipe-pass-1234", "SECRET_SMTP_VERSION": "v1"}
	rc.Spec.Checks.Install = []v1alpha1.Check{{Name: "home", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080}}}
	e.apply(rc)
	tr := newTestRun("demo-mask", "demo", "")
	tr.Spec.Env = map[string]string{"API_TOKEN": "run-token-5678"}
	e.apply(tr)
	e.checks.fail["home"] = true
	e.checks.echo = "env: recipe-pass-1234 run-token-5678"

	got := e.reconcileDone(e.rec, "demo-mask", steps)
	if c := condition(got, v1alpha1.ConditionSucceeded); c.Reason != v1alpha1.ReasonCheckFailed {
		t.Fatalf("Succeeded = %s %s: %s", c.Status, c.Reason, c.Message)
	}
	secrets := []string{"recipe-pass-1234", "run-token-5678"}
	status := e.describe("demo-mask")
	if !strings.Contains(status, "env: *** ***") {
		t.Errorf("the check's output is not in the status, masked: %s", status)
	}
	seen := map[string]string{"status": status}
	events, _ := e.store.Events(t.Context(), v1alpha1.KindTestRun, "demo-mask")
	for _, ev := range events {
		seen["event "+ev.Reason] += ev.Message
	}
	_ = filepath.WalkDir(filepath.Join(e.dataDir, "runs", "demo-mask"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == ".json" {
			b, _ := os.ReadFile(path)
			seen[path] = string(b)
		}
		return nil
	})
	for where, text := range seen {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s carries %s", where, s)
			}
		}
	}
}

// A step that fails for now (here the engine refuses a listing) says so in a Warning event
// (EngineError) and is retried; the run does not end.
func TestTransientErrorIsAnEventAndRetried(t *testing.T) {
	e := newFakeEnv(t)
	url, _ := standardRepo(t, "main")
	e.apply(newRecipe("demo", url))
	tr := newTestRun("demo-flaky", "demo", "")
	tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall}
	e.apply(tr)
	e.engine.FailNext("ServiceList", errors.New("engine busy"))
	got := e.reconcileDone(e.rec, "demo-flaky", steps)
	if c := condition(got, v1alpha1.ConditionSucceeded); c.Status != v1alpha1.ConditionTrue {
		t.Fatalf("Succeeded = %s %s: %s", c.Status, c.Reason, c.Message)
	}
	evs := e.events(v1alpha1.KindTestRun, "demo-flaky", v1alpha1.ReasonEngineError)
	if len(evs) != 1 || evs[0].Type != v1alpha1.EventWarning || !strings.Contains(evs[0].Message, "engine busy") {
		t.Errorf("EngineError events = %+v, want one Warning naming the refusal", evs)
	}
}
