package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
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
	"github.com/swarmrun/swarmrun/internal/mask"
	"github.com/swarmrun/swarmrun/warm"
)

const (
	probe1 = "swarmrun-probe:1"
	probe2 = "swarmrun-probe:2"
)

// composeV1 is the base of the test recipe: app on probe 1 with a healthcheck, a volume and
// an external secret, and a sidekiq that the head drops.
const composeV1 = `version: "3.8"
services:
  app:
    image: %s
    healthcheck:
      test: ["CMD", "/probe", "-health"]
      interval: 1s
      timeout: 2s
      retries: 3
    volumes:
      - data:/data
    secrets:
      - db_password
    stop_grace_period: 1s
    deploy:
      update_config: {order: start-first, monitor: 1s}
      labels:
        - "coop-cloud.${STACK_NAME}.version=%s"
%s
volumes:
  data:
secrets:
  db_password:
    external: true
    name: ${STACK_NAME}_db_password_${SECRET_DB_PASSWORD_VERSION}
`

const sidekiq = `  sidekiq:
    image: %s
    command: ["-sleep", "0"]
    stop_grace_period: 1s
    deploy:
      update_config: {order: start-first, monitor: 1s}
`

const envSample = "COMPOSE_FILE=compose.yml\nSECRET_DB_PASSWORD_VERSION=v1 # length=24\n"

// repoVersion is one commit of a test recipe.
type repoVersion struct {
	image   string
	version string // the compose's own version label
	sidekiq bool
	tag     string // release tag at this commit, if any
}

// recipeRepo builds a git recipe in a temporary directory: one commit per version, in
// order, on branch (main or master), and returns its path and the commits.
func recipeRepo(t testing.TB, branch string, versions ...repoVersion) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", branch)
	var commits []string
	for _, v := range versions {
		side := ""
		if v.sidekiq {
			side = fmt.Sprintf(sidekiq, v.image)
		}
		writeFile(t, filepath.Join(dir, "compose.yml"), fmt.Sprintf(composeV1, v.image, v.version, side))
		writeFile(t, filepath.Join(dir, ".env.sample"), envSample)
		git("add", "-A")
		git("commit", "-q", "-m", "version "+v.version)
		commits = append(commits, git("rev-parse", "HEAD"))
		if v.tag != "" {
			git("tag", v.tag)
		}
	}
	return dir, commits
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// standardRepo is the acceptance recipe: 0.1.0+1 (probe 1, with sidekiq) and 0.2.0+2
// (probe 2, sidekiq dropped) on branch.
func standardRepo(t testing.TB, branch string) (string, []string) {
	t.Helper()
	return recipeRepo(t, branch,
		repoVersion{image: probe1, version: "0.1.0+1", sidekiq: true, tag: "0.1.0+1"},
		repoVersion{image: probe2, version: "0.2.0+2", tag: "0.2.0+2"},
	)
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

func (c *fakeChecks) Run(_ context.Context, stack string, ch v1alpha1.Check, m *mask.Masker) v1alpha1.CheckResult {
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
	t       *testing.T
	store   *store.Store
	engine  *fake.Fake
	dataDir string
	checks  *fakeChecks
	rec     *TestRunReconciler
	clock   *fake.Clock
	// wrap, when set, stands between the reconciler and the store.
	wrap func(Store) Store
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
	rec, err := NewTestRunReconciler(Options{
		Store:    objects,
		Engine:   e.engine,
		Deployer: deploy.New(deploy.Options{Engine: e.engine, PollInterval: time.Millisecond}),
		Checks:   e.checks,
		DataDir:  e.dataDir,
		Stable:   -1,
		Poll:     10 * time.Millisecond,
		Now:      now,
		Promoter: warm.NewPromoter(warm.PromoterOptions{Objects: e.store, Now: now}),
	})
	if err != nil {
		e.t.Fatal(err)
	}
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

// reconcileDone reconciles name until its verdict is in (and teardown done), at most n
// times, failing on an error that is not expected to be retried.
func (e *fakeEnv) reconcileDone(rec *TestRunReconciler, name string, n int) *v1alpha1.TestRun {
	e.t.Helper()
	req := controller.Request{Kind: v1alpha1.KindTestRun, Name: name}
	var err error
	for range n {
		_, err = rec.Reconcile(e.t.Context(), req)
		if tr := e.get(name); err == nil && tr != nil && finished(tr) {
			return tr
		}
	}
	e.t.Fatalf("testrun %s not finished after %d reconciles (last error %v): %s", name, n, err, e.describe(name))
	return nil
}

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
