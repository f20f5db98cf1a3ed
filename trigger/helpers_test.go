package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/forge"
	"github.com/swarmrun/swarmrun/forge/forgetest"
	"github.com/swarmrun/swarmrun/trigger"
)

const (
	head          = "ae5a8180c0ffee0000000000000000000000beef"
	webhookSecret = "webhook-s3cr3t"
	targetURL     = "https://swarmrun.example.org/testruns/{testrun}"
)

var ghRepo = forge.Repo{Owner: "recipes", Name: "demo"}

// env is a store, a test forge with the bot, alice (a named user), carol (of the team
// recipes/maintainers), bob (nobody), pull request 4 at head, the forge secrets, the
// Repository demo, its reconciler and its webhook served over HTTP.
type env struct {
	t *testing.T
	// clock is the one clock of the test: the store, the forge and the reconciler read it.
	clock   *fake.Clock
	store   *store.Store
	objects *flakyObjects
	forge   *forgetest.Server
	token   string
	secrets string
	rec     *trigger.RepositoryReconciler
	hook    string // the webhook URL of the Repository demo
	// deliveries are what the webhook told its observer, "event/result" each.
	deliveries *deliveries
	logs       *bytes.Buffer
	logMu      *sync.Mutex
}

type envOptions struct {
	poll   time.Duration
	noHook bool
	mutate func(*v1alpha1.Repository)
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{t: t, clock: fake.NewClock(time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)), logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	st, err := store.Open(filepath.Join(t.TempDir(), "swarmrun.db"), store.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	e.objects = &flakyObjects{Store: st}
	e.forge = forgetest.New(t, forgetest.Options{Now: e.clock.Now})
	e.token = e.forge.AddUser("swarmrun-bot")
	for _, u := range []string{"alice", "bob", "carol"} {
		e.forge.AddUser(u)
	}
	e.forge.AddRepo(ghRepo)
	e.forge.AddPullRequest(ghRepo, 4, head)
	e.forge.AddOrgMember("recipes", "swarmrun-bot", false)
	e.forge.AddTeam("recipes", "maintainers", "carol")

	e.secrets = t.TempDir()
	u, _ := url.Parse(e.forge.URL())
	hostDir := filepath.Join(e.secrets, u.Host)
	if err := os.MkdirAll(hostDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"token": e.token + "\n", "webhook-secret": webhookSecret} {
		if err := os.WriteFile(filepath.Join(hostDir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	repo := &v1alpha1.Repository{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo"}, Spec: v1alpha1.RepositorySpec{
		Forge: v1alpha1.ForgeForgejo, URL: e.forge.URL(), Owner: ghRepo.Owner, Repo: ghRepo.Name, Recipe: "demo",
		TokenFile: "token", WebhookSecretFile: "webhook-secret",
		Trigger:  v1alpha1.RepositoryTrigger{Users: []string{"alice"}, Teams: []v1alpha1.TeamRef{{Org: "recipes", Team: "maintainers"}}},
		Template: v1alpha1.TestRunTemplate{Stages: []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}, Env: map[string]string{"LOG_LEVEL": "debug"},
			Base: &v1alpha1.BaseSource{From: v1alpha1.BaseFromWarm}},
	}}
	if o.poll > 0 {
		repo.Spec.PollInterval = &v1alpha1.Duration{Duration: o.poll}
	}
	if o.noHook {
		repo.Spec.WebhookSecretFile = ""
	}
	if o.mutate != nil {
		o.mutate(repo)
	}
	repo.Default()
	if err := st.Create(t.Context(), repo); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	e.newReconciler()

	e.deliveries = &deliveries{}
	h, err := trigger.Webhook(trigger.WebhookOptions{Objects: st, SecretsDir: e.secrets, Observer: e.deliveries})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.hook = srv.URL + trigger.WebhookPath + "demo"
	return e
}

// newReconciler starts a reconciler afresh, as a restarted serve does: nothing in memory.
func (e *env) newReconciler() {
	r, err := trigger.NewRepositoryReconciler(trigger.Options{Objects: e.objects, SecretsDir: e.secrets, TargetURL: targetURL, Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.rec = r
}

func (e *env) ctx() context.Context {
	log := funcr.New(func(prefix, args string) {
		e.logMu.Lock()
		defer e.logMu.Unlock()
		e.logs.WriteString(prefix + " " + args + "\n")
	}, funcr.Options{Verbosity: 2})
	return logr.NewContext(e.t.Context(), log)
}

// settle reconciles the Repository until it asks for nothing but a later poll, as the driver
// would, and returns the last result and error.
func (e *env) settle() (controller.Result, error) {
	e.t.Helper()
	for range 50 {
		res, err := e.rec.Reconcile(e.ctx(), controller.Request{Kind: v1alpha1.KindRepository, Name: "demo"})
		if err != nil || !res.Requeue {
			return res, err
		}
	}
	e.t.Fatal("the Repository never settled in 50 steps")
	return controller.Result{}, nil
}

// step is one reconcile of the Repository.
func (e *env) step() (controller.Result, error) {
	return e.rec.Reconcile(e.ctx(), controller.Request{Kind: v1alpha1.KindRepository, Name: "demo"})
}

// mustSettle is settle that fails the test on an error.
func (e *env) mustSettle() controller.Result {
	e.t.Helper()
	res, err := e.settle()
	if err != nil {
		e.t.Fatalf("reconcile: %v", err)
	}
	return res
}

// comment posts a comment on pull request 4 as user and delivers its webhook, which must
// accept it (202), and returns the comment.
func (e *env) comment(user, body string) forge.Comment {
	e.t.Helper()
	e.clock.Advance(time.Second)
	c := e.forge.Comment(ghRepo, 4, user, body)
	code, answer := e.deliver(forge.EventIssueComment, "delivery-"+strings.ToLower(user)+"-"+itoa(c.ID), e.forge.IssueCommentPayload(ghRepo, c, "created"), webhookSecret)
	if code != http.StatusAccepted {
		e.t.Fatalf("delivery of %s's comment: %d %s, want 202", user, code, answer)
	}
	return c
}

func (e *env) deliver(event, id string, body []byte, secret string) (int, string) {
	e.t.Helper()
	return forgetest.Deliver(e.t, e.hook, secret, event, id, body)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func (e *env) repository() *v1alpha1.Repository {
	e.t.Helper()
	r := &v1alpha1.Repository{}
	if err := e.store.Get(e.t.Context(), "demo", r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) testRuns() []*v1alpha1.TestRun {
	e.t.Helper()
	objs, _, err := e.store.List(e.t.Context(), v1alpha1.KindTestRun)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*v1alpha1.TestRun
	for _, o := range objs {
		out = append(out, o.(*v1alpha1.TestRun))
	}
	return out
}

// finish writes a verdict into the run's status through the store, as the TestRun controller
// does when a run ends.
func (e *env) finish(name string, ok bool, level int) {
	e.t.Helper()
	tr := &v1alpha1.TestRun{}
	if err := e.store.Get(e.t.Context(), name, tr); err != nil {
		e.t.Fatal(err)
	}
	status, reason := v1alpha1.ConditionTrue, v1alpha1.ReasonSucceeded
	if !ok {
		status, reason = v1alpha1.ConditionFalse, v1alpha1.ReasonCheckFailed
	}
	apimeta.SetStatusCondition(&tr.Status.Conditions, v1alpha1.Condition{Type: v1alpha1.ConditionSucceeded, Status: status, Reason: reason, Message: "the run ended"})
	tr.Status.Level = level
	tr.Status.Base = &v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.1.0+1", Commit: "2ba9d171", Reason: "the last green version"}
	tr.Status.Head = &v1alpha1.HeadStatus{Ref: tr.Spec.Head, Commit: tr.Spec.Head}
	tr.Status.Pruned = []string{"old-worker"}
	tr.Status.Tiers = map[string]v1alpha1.TierResult{
		"install": {Result: v1alpha1.ResultPassed},
		"upgrade": {Result: v1alpha1.ResultPassed, Checks: []v1alpha1.CheckResult{{Name: "data-kept", Result: v1alpha1.ResultPassed}}},
	}
	if err := e.store.UpdateStatus(e.t.Context(), tr); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) events() []v1alpha1.Event {
	e.t.Helper()
	evs, err := e.store.Events(e.t.Context(), v1alpha1.KindRepository, "demo")
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func (e *env) eventCount(reason string) int {
	n := 0
	for _, ev := range e.events() {
		if ev.Reason == reason {
			n += int(ev.Count)
		}
	}
	return n
}

// mine are the forge user's comments on pull request 4 that carry marker.
func (e *env) mine(marker string) []forge.Comment {
	var out []forge.Comment
	for _, c := range e.forge.Comments(ghRepo, 4) {
		if c.User.Login == "swarmrun-bot" && strings.Contains(c.Body, marker) {
			out = append(out, c)
		}
	}
	return out
}

func (e *env) statuses(sha string) []string {
	var out []string
	for _, s := range e.forge.Statuses(ghRepo, sha) {
		out = append(out, string(s.State))
	}
	return out
}

// flakyObjects is the store, with status writes that fail when the test says so: a crash
// between a post to the forge and the record of it; and a write of someone else's that the
// test makes land just before the reconciler's.
type flakyObjects struct {
	*store.Store
	mu       sync.Mutex
	failNext int
	before   func()
}

func (f *flakyObjects) UpdateStatus(ctx context.Context, obj v1alpha1.Object) error {
	f.mu.Lock()
	fail := f.failNext > 0
	if fail {
		f.failNext--
	}
	before := f.before
	f.before = nil
	f.mu.Unlock()
	if before != nil {
		before()
	}
	if _, ok := obj.(*v1alpha1.Repository); ok && fail {
		return errCrash
	}
	return f.Store.UpdateStatus(ctx, obj)
}

// beforeNextStatusWrite runs do once, right before the next status write.
func (f *flakyObjects) beforeNextStatusWrite(do func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.before = do
}

func (f *flakyObjects) failStatusWrites(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext = n
}

var errCrash = errors.New("the process died before the status was saved")

func forgetestDeliver(t *testing.T, url string, body []byte) (int, string) {
	t.Helper()
	return forgetest.Deliver(t, url, webhookSecret, forge.EventIssueComment, "d-"+url, body)
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// deliveries records what a webhook tells its observer.
type deliveries struct {
	mu   sync.Mutex
	seen []string
}

func (d *deliveries) WebhookDelivered(event, result string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen = append(d.seen, event+"/"+result)
}

func (d *deliveries) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.seen)
}
