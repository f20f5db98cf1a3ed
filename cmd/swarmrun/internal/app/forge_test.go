package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/objcmd"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/app"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/forge"
	"github.com/swarmrun/swarmrun/forge/forgetest"
	"github.com/swarmrun/swarmrun/internal/testkit"
	"github.com/swarmrun/swarmrun/trigger"
)

// The pull request trigger as serve wires it: a signed "!testme" delivery reaches the
// webhook, the Repository controller starts a TestRun at the pull request's head, the real
// TestRun controller runs the acceptance recipe on the fake engine to a verdict, and the pull
// request gets a pending status, the verdict and one summary comment naming the pruned
// service.
func TestPullRequestTriggerEndToEnd(t *testing.T) {
	f, dir, st, source, commits := acceptance(t)
	headSHA := commits[1] // 0.2.0+2: sidekiq dropped

	fg := forgetest.New(t, forgetest.Options{})
	token := fg.AddUser("swarmrun-bot")
	fg.AddUser("alice")
	repo := forge.Repo{Owner: "recipes", Name: "demo"}
	fg.AddRepo(repo)
	fg.AddPullRequest(repo, 4, headSHA)

	forgeOpts := &app.ForgeOptions{TargetURL: "https://ci.example.org/testruns/{testrun}"}
	u, _ := url.Parse(fg.URL())
	hostDir := filepath.Join(forgeOpts.Dir(dir), u.Host)
	if err := os.MkdirAll(hostDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"token": token, "webhook-secret": "hook-secret"} {
		if err := os.WriteFile(filepath.Join(hostDir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), logr.Discard()))
	rc := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo"}, Spec: v1alpha1.RecipeSpec{Source: v1alpha1.RecipeSource{URL: source}}}
	rc.Default()
	rp := &v1alpha1.Repository{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo"}, Spec: v1alpha1.RepositorySpec{
		Forge: v1alpha1.ForgeForgejo, URL: fg.URL(), Owner: repo.Owner, Repo: repo.Name, Recipe: "demo",
		TokenFile: "token", WebhookSecretFile: "webhook-secret", Trigger: v1alpha1.RepositoryTrigger{Users: []string{"alice"}},
		Template: v1alpha1.TestRunTemplate{Stages: []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}, UpgradeBase: "0.1.0+1"},
	}}
	rp.Default()
	for _, o := range []v1alpha1.Object{rc, rp} {
		if err := st.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{Store: st, Engine: f, DataDir: dir, Flags: app.Flags{Workers: 2}, Stable: -1, Forge: forgeOpts})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controllers: %v", err)
		}
	}()
	hooks, err := app.Hooks(&cli.Globals{DataDir: dir}, forgeOpts)(objcmd.Served{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hooks)
	defer srv.Close()

	c := fg.Comment(repo, 4, "alice", "!testme")
	if code, answer := forgetest.Deliver(t, srv.URL+trigger.WebhookPath+"demo", "hook-secret", forge.EventIssueComment, "d-1",
		fg.IssueCommentPayload(repo, c, "created")); code != http.StatusAccepted {
		t.Fatalf("delivery: %d %s", code, answer)
	}
	var summary forge.Comment
	testkit.Eventually(t, 60*time.Second, 10*time.Millisecond, func() bool {
		for _, cm := range fg.Comments(repo, 4) {
			if strings.Contains(cm.Body, "<!-- swarmrun:summary") {
				summary = cm
				return true
			}
		}
		return false
	}, "no summary comment on the pull request")

	tr := &v1alpha1.TestRun{}
	if err := st.Get(ctx, "demo-pr4", tr); err != nil {
		t.Fatal(err)
	}
	cond := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionSucceeded)
	if tr.Spec.Head != headSHA || cond == nil || cond.Status == v1alpha1.ConditionUnknown {
		t.Fatalf("run demo-pr4: head %s, Succeeded %+v", tr.Spec.Head, cond)
	}
	want := map[metav1.ConditionStatus]forge.StatusState{v1alpha1.ConditionTrue: forge.StatusSuccess, v1alpha1.ConditionFalse: forge.StatusFailure}[cond.Status]
	statuses := fg.Statuses(repo, headSHA)
	if len(statuses) != 2 || statuses[0].State != forge.StatusPending || statuses[1].State != want ||
		statuses[1].TargetURL != "https://ci.example.org/testruns/demo-pr4" || !strings.HasPrefix(statuses[1].Description, "level ") {
		t.Errorf("statuses = %+v, want pending then %s with the level and the link (run: %s %s)", statuses, want, cond.Reason, cond.Message)
	}
	if !strings.Contains(summary.Body, "_sidekiq`") || !strings.Contains(summary.Body, "@alice") {
		t.Errorf("the summary does not name the pruned service or who asked:\n%s", summary.Body)
	}
}
