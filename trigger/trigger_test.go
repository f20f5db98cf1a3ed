package trigger_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/forge"
)

// A delivery with a bad signature is answered 401 and changes nothing: no delivery recorded,
// no comment pending, no run, whatever the body says.
func TestWebhookBadSignatureCreatesNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.forge.Comment(ghRepo, 4, "alice", "!testme")
	body := e.forge.IssueCommentPayload(ghRepo, c, "created")
	for _, secret := range []string{"wrong secret", ""} {
		if code, answer := e.deliver(forge.EventIssueComment, "forged-1", body, secret); code != http.StatusUnauthorized {
			t.Errorf("delivery signed with %q: %d %s, want 401", secret, code, answer)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.hook, strings.NewReader(string(body)))
	req.Header.Set(forge.HeaderGiteaDelivery, "unsigned")
	req.Header.Set(forge.HeaderGiteaEvent, forge.EventIssueComment)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned delivery: %d, want 401", resp.StatusCode)
	}
	e.mustSettle()
	if r := e.repository(); len(r.Status.Deliveries)+len(r.Status.Pending)+len(r.Status.PullRequests) != 0 {
		t.Errorf("a refused delivery changed the status: %+v", r.Status)
	}
	if runs := e.testRuns(); len(runs) != 0 {
		t.Errorf("a refused delivery started %d runs", len(runs))
	}
	if n := len(e.forge.Statuses(ghRepo, head)); n != 0 {
		t.Errorf("%d statuses posted", n)
	}
	// Unverified deliveries are counted under no event of their own choosing.
	if got := e.deliveries.list(); !slices.Equal(got, []string{"unknown/unauthorized", "unknown/unauthorized", "unknown/unauthorized"}) {
		t.Errorf("observed deliveries %v, want three unknown/unauthorized", got)
	}
}

func TestWebhookRefusals(t *testing.T) {
	e := newEnv(t, envOptions{poll: time.Minute, noHook: true})
	c := e.forge.Comment(ghRepo, 4, "alice", "!testme")
	body := e.forge.IssueCommentPayload(ghRepo, c, "created")
	if code, _ := e.deliver(forge.EventIssueComment, "d1", body, webhookSecret); code != http.StatusUnauthorized {
		t.Errorf("a Repository without webhookSecretFile took a delivery: %d", code)
	}
	code, _ := forgetestDeliver(t, strings.TrimSuffix(e.hook, "demo")+"nope", body)
	if code != http.StatusNotFound {
		t.Errorf("delivery to an unknown Repository: %d, want 404", code)
	}
}

// A delivery replayed, and the same comment delivered again under a new ID, start one run.
func TestReplayedDeliveryStartsOneRun(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.comment("alice", "!testme")
	body := e.forge.IssueCommentPayload(ghRepo, c, "created")
	if code, answer := e.deliver(forge.EventIssueComment, "delivery-alice-"+itoa(c.ID), body, webhookSecret); code != http.StatusOK || !strings.Contains(answer, "received before") {
		t.Errorf("replayed delivery: %d %s, want 200 ignored", code, answer)
	}
	e.mustSettle()
	if code, answer := e.deliver(forge.EventIssueComment, "redelivered", body, webhookSecret); code != http.StatusAccepted || !strings.Contains(answer, "already handled") {
		t.Errorf("redelivery after the run started: %d %s", code, answer)
	}
	e.mustSettle()
	if runs := e.testRuns(); len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	if n := e.eventCount(v1alpha1.ReasonRunStarted); n != 1 {
		t.Errorf("%d RunStarted events, want 1", n)
	}
	if r := e.repository(); len(r.Status.Deliveries) != 2 || len(r.Status.Pending) != 0 {
		t.Errorf("deliveries %v, pending %v: want two deliveries and nothing pending", r.Status.Deliveries, r.Status.Pending)
	}
	if got := e.deliveries.list(); len(got) < 3 || got[len(got)-1] != "issue_comment/accepted" {
		t.Errorf("observed deliveries %v, want the verified ones counted as issue_comment/accepted", got)
	}
}

// An author the Repository does not name starts nothing, and is told so once per pull
// request however often they ask.
func TestUnauthorisedCommenterGetsOnePoliteComment(t *testing.T) {
	e := newEnv(t, envOptions{})
	for range 3 {
		e.comment("bob", "!testme please")
		e.mustSettle()
	}
	if runs := e.testRuns(); len(runs) != 0 {
		t.Errorf("bob started %d runs", len(runs))
	}
	refusals := e.mine("<!-- swarmrun:refusal -->")
	if len(refusals) != 1 || !strings.Contains(refusals[0].Body, "@bob") || !strings.Contains(refusals[0].Body, "nothing was started") {
		t.Fatalf("refusal comments: %+v, want exactly one that addresses bob", refusals)
	}
	if n := e.eventCount(v1alpha1.ReasonTriggerRefused); n != 3 {
		t.Errorf("%d TriggerRefused events, want 3", n)
	}
	if rec := e.repository().Status.PullRequest(4); rec == nil || rec.RefusalComment != refusals[0].ID || rec.TestRun != "" {
		t.Errorf("record of #4: %+v", rec)
	}
	if n := len(e.forge.Statuses(ghRepo, head)); n != 0 {
		t.Errorf("%d statuses posted for a refused comment", n)
	}
}

// A delivery the webhook records while a step runs makes the step's status write conflict:
// the step is taken again at once, not failed, and what it did is announced once.
func TestDeliveryDuringAStepIsNoFailure(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.comment("bob", "!testme")
	e.objects.beforeNextStatusWrite(func() { e.comment("alice", "!testme") })
	res, err := e.step()
	if err != nil || !res.Requeue {
		t.Fatalf("step whose status write conflicted: %+v, %v; want an immediate requeue and no error", res, err)
	}
	e.mustSettle()
	if n := e.eventCount(v1alpha1.ReasonTriggerRefused); n != 1 {
		t.Errorf("%d TriggerRefused events for bob's one comment, want 1", n)
	}
	if n := len(e.mine("<!-- swarmrun:refusal -->")); n != 1 {
		t.Errorf("%d refusal comments, want 1", n)
	}
	if runs := e.testRuns(); len(runs) != 1 || e.eventCount(v1alpha1.ReasonRunStarted) != 1 {
		t.Errorf("%d runs and %d RunStarted events for alice's comment, want 1 and 1", len(runs), e.eventCount(v1alpha1.ReasonRunStarted))
	}
}

// An authorised "!testme" starts a run at the pull request's head; the pull request gets a
// pending status, then the verdict with the level and a link, and one summary comment, which
// neither more reconciles nor a restart posts again.
func TestAuthorisedCommentRunsAndReports(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.comment("alice", "Looks good.\n\n!testme\n")
	e.mustSettle()
	runs := e.testRuns()
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	tr := runs[0]
	if tr.Name != "demo-pr4" || tr.Spec.Recipe != "demo" || tr.Spec.Head != head || tr.Spec.Env["LOG_LEVEL"] != "debug" ||
		len(tr.Spec.Stages) != 2 || tr.Spec.Teardown != v1alpha1.TeardownAlways || !tr.Spec.Warm() {
		t.Errorf("run = %s %+v: want demo-pr4 of recipe demo at the head, with the template", tr.Name, tr.Spec)
	}
	for k, v := range map[string]string{v1alpha1.LabelRepository: "demo", v1alpha1.LabelPullRequest: "4", v1alpha1.LabelComment: itoa(c.ID)} {
		if tr.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, tr.Labels[k], v)
		}
	}
	if got := e.statuses(head); strings.Join(got, ",") != "pending" {
		t.Fatalf("statuses after the start: %v, want pending", got)
	}
	pending := e.forge.Statuses(ghRepo, head)[0]
	if pending.Context != "swarmrun/demo" || pending.TargetURL != "https://swarmrun.example.org/testruns/demo-pr4" {
		t.Errorf("pending status = %+v", pending)
	}

	e.clock.Advance(10 * time.Minute)
	e.finish("demo-pr4", true, 5)
	e.mustSettle()
	if got := e.statuses(head); strings.Join(got, ",") != "pending,success" {
		t.Fatalf("statuses: %v, want pending then success", got)
	}
	final := e.forge.Statuses(ghRepo, head)[1]
	if final.Description != "level 5/5: Succeeded" || final.TargetURL != pending.TargetURL {
		t.Errorf("verdict status = %+v", final)
	}
	summaries := e.mine("<!-- swarmrun:summary testrun=demo-pr4")
	if len(summaries) != 1 {
		t.Fatalf("%d summary comments, want 1", len(summaries))
	}
	for _, want := range []string{"**passed**, level 5/5", "@alice", "0.1.0+1", "the last green version", "`old-worker`", "| upgrade | passed |", "data-kept: passed",
		"([details](https://swarmrun.example.org/testruns/demo-pr4))"} {
		if !strings.Contains(summaries[0].Body, want) {
			t.Errorf("the summary lacks %q:\n%s", want, summaries[0].Body)
		}
	}
	rec := e.repository().Status.PullRequest(4)
	if rec == nil || rec.SummaryComment != summaries[0].ID || rec.Reported != v1alpha1.StateSuccess || rec.Comment != c.ID || rec.User != "alice" {
		t.Errorf("record of #4: %+v", rec)
	}

	before := len(e.forge.Requests())
	e.mustSettle()
	e.newReconciler()
	e.mustSettle()
	for _, r := range e.forge.Requests()[before:] {
		if r.Method != http.MethodGet {
			t.Errorf("after the verdict, a reconcile and a restart sent %s %s", r.Method, r.Path)
		}
	}
	if n := len(e.mine("<!-- swarmrun:summary")); n != 1 {
		t.Errorf("%d summary comments after a restart, want 1", n)
	}
	if c := apimeta.FindStatusCondition(e.repository().Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Status != v1alpha1.ConditionTrue {
		t.Errorf("Ready = %+v", c)
	}
}

// A failed run is reported as a failure with its level.
func TestFailedRunIsReportedAsFailure(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.comment("alice", "!testme")
	e.mustSettle()
	e.finish("demo-pr4", false, 1)
	e.mustSettle()
	st := e.forge.Statuses(ghRepo, head)
	if len(st) != 2 || st[1].State != forge.StatusFailure || st[1].Description != "level 1/5: CheckFailed" {
		t.Errorf("statuses = %+v", st)
	}
	if s := e.mine("<!-- swarmrun:summary"); len(s) != 1 || !strings.Contains(s[0].Body, "**failed**, level 1/5") {
		t.Errorf("summary comments = %+v", s)
	}
}

// Members of a named team may ask, as the forge's membership API says; so may the members of
// a named organisation.
func TestTeamAndOrganisationMembersMayAsk(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.comment("carol", "!testme")
	e.mustSettle()
	if runs := e.testRuns(); len(runs) != 1 || e.repository().Status.PullRequest(4).User != "carol" {
		t.Fatalf("carol of recipes/maintainers started %d runs", len(runs))
	}

	o := newEnv(t, envOptions{mutate: func(r *v1alpha1.Repository) {
		r.Spec.Trigger = v1alpha1.RepositoryTrigger{Teams: []v1alpha1.TeamRef{{Org: "coop"}}}
	}})
	o.forge.AddOrgMember("coop", "swarmrun-bot", false)
	o.forge.AddOrgMember("coop", "bob", false)
	o.comment("bob", "!testme")
	o.mustSettle()
	if runs := o.testRuns(); len(runs) != 1 {
		t.Errorf("bob of the organisation coop started %d runs, want 1", len(runs))
	}
}

// Comments that do not ask, comments on issues, edits, quoted phrases and comments on closed
// pull requests start nothing.
func TestCommentsThatStartNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, body := range []string{"LGTM", "> !testme\nwhy?", "!testmenow", "please !testme"} {
		e.comment("alice", body)
	}
	onIssue := e.forge.Comment(ghRepo, 9, "alice", "!testme")
	e.deliver(forge.EventIssueComment, "issue", e.forge.IssueCommentPayload(ghRepo, onIssue, "created"), webhookSecret)
	c := e.forge.Comment(ghRepo, 4, "alice", "!testme")
	e.deliver(forge.EventIssueComment, "edit", e.forge.IssueCommentPayload(ghRepo, c, "edited"), webhookSecret)
	e.mustSettle()
	if runs := e.testRuns(); len(runs) != 0 {
		t.Fatalf("%d runs started", len(runs))
	}

	e.forge.ClosePullRequest(ghRepo, 4)
	e.comment("alice", "!testme")
	e.mustSettle()
	if runs := e.testRuns(); len(runs) != 0 {
		t.Errorf("a closed pull request got %d runs", len(runs))
	}
	if n := e.eventCount(v1alpha1.ReasonTriggerIgnored); n != 1 {
		t.Errorf("%d TriggerIgnored events, want 1", n)
	}
}

// The poller finds a comment without a webhook; when the webhook delivers it too, in either
// order, there is still one run.
func TestPollerFindsTheCommentAndNoDuplicate(t *testing.T) {
	e := newEnv(t, envOptions{poll: time.Minute})
	res := e.mustSettle() // the first poll: nothing yet
	if res.RequeueAfter != time.Minute {
		t.Errorf("after a poll: requeue after %s, want the poll interval", res.RequeueAfter)
	}
	e.clock.Advance(time.Second)
	c := e.forge.Comment(ghRepo, 4, "alice", "!testme")
	e.clock.Advance(time.Minute)
	e.mustSettle()
	runs := e.testRuns()
	if len(runs) != 1 || runs[0].Labels[v1alpha1.LabelComment] != itoa(c.ID) {
		t.Fatalf("the poller started %d runs, want 1 for comment %d", len(runs), c.ID)
	}
	// The webhook's delivery of the same comment comes late.
	code, answer := e.deliver(forge.EventIssueComment, "late", e.forge.IssueCommentPayload(ghRepo, c, "created"), webhookSecret)
	if code != http.StatusAccepted || !strings.Contains(answer, "already handled") {
		t.Errorf("late delivery: %d %s", code, answer)
	}
	e.clock.Advance(time.Minute)
	e.mustSettle()
	if runs := e.testRuns(); len(runs) != 1 || e.eventCount(v1alpha1.ReasonRunStarted) != 1 {
		t.Errorf("%d runs and %d RunStarted events, want 1 and 1", len(runs), e.eventCount(v1alpha1.ReasonRunStarted))
	}

	// The other order: the webhook first, then the poller lists the comment again.
	o := newEnv(t, envOptions{poll: time.Minute})
	o.mustSettle()
	o.comment("alice", "!testme")
	o.mustSettle()
	o.clock.Advance(2 * time.Minute)
	o.mustSettle()
	if runs := o.testRuns(); len(runs) != 1 || o.eventCount(v1alpha1.ReasonRunStarted) != 1 {
		t.Errorf("webhook then poll: %d runs and %d RunStarted events, want 1 and 1", len(runs), o.eventCount(v1alpha1.ReasonRunStarted))
	}
	if st := o.repository().Status; len(st.Pending) != 0 || st.PollCursor == nil {
		t.Errorf("pending %v, cursor %v", st.Pending, st.PollCursor)
	}
}

// An old comment edited to ask for a run starts nothing, as its edit's delivery does not.
func TestPollerIgnoresEdits(t *testing.T) {
	e := newEnv(t, envOptions{poll: time.Minute})
	c := e.forge.Comment(ghRepo, 4, "alice", "LGTM")
	e.mustSettle()
	e.clock.Advance(2 * time.Minute)
	e.forge.EditComment(ghRepo, c.ID, "!testme")
	e.mustSettle()
	if runs := e.testRuns(); len(runs) != 0 {
		t.Errorf("an edited comment started %d runs", len(runs))
	}
	if st := e.repository().Status; st.LastPollTime == nil || !st.PollCursor.After(c.Created) {
		t.Errorf("the poll did not list the edit: cursor %v, comment made %v", st.PollCursor, c.Created)
	}
}

// Comments older than the Repository never start runs, even when a poll lists them.
func TestPollerIgnoresHistory(t *testing.T) {
	e := newEnv(t, envOptions{poll: time.Minute})
	e.clock.Set(e.repository().CreationTimestamp.Add(-time.Hour))
	e.forge.Comment(ghRepo, 4, "alice", "!testme")
	e.clock.Advance(2 * time.Hour)
	e.mustSettle()
	if runs := e.testRuns(); len(runs) != 0 {
		t.Errorf("a comment older than the Repository started %d runs", len(runs))
	}
}

// A new "!testme" waits while the pull request's run is going, then replaces the finished,
// reported run with one at the new head; each run gets its own summary comment.
func TestNewCommentReplacesTheFinishedRun(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.comment("alice", "!testme")
	e.mustSettle()
	first := e.testRuns()[0]

	const newHead = "0123456789abcdef0123456789abcdef01234567"
	e.forge.SetHead(ghRepo, 4, newHead)
	second := e.comment("carol", "!testme")
	e.mustSettle()
	runs := e.testRuns()
	if len(runs) != 1 || runs[0].UID != first.UID || runs[0].DeletionTimestamp != nil {
		t.Fatalf("the unfinished run was touched: %+v", runs)
	}
	if st := e.repository().Status; len(st.Pending) != 1 || st.Pending[0].ID != second.ID {
		t.Fatalf("pending = %v, want carol's comment waiting", st.Pending)
	}

	e.finish("demo-pr4", true, 5)
	e.mustSettle()
	runs = e.testRuns()
	if len(runs) != 1 || runs[0].UID == first.UID || runs[0].Spec.Head != newHead || runs[0].Labels[v1alpha1.LabelComment] != itoa(second.ID) {
		t.Fatalf("after the verdict: %+v, want a new run at the new head for carol's comment", runs)
	}
	if got := e.statuses(head); strings.Join(got, ",") != "pending,success" {
		t.Errorf("the first head's statuses: %v", got)
	}
	if got := e.statuses(newHead); strings.Join(got, ",") != "pending" {
		t.Errorf("the new head's statuses: %v", got)
	}
	e.finish("demo-pr4", false, 2)
	e.mustSettle()
	if n := len(e.mine("<!-- swarmrun:summary testrun=demo-pr4")); n != 2 {
		t.Errorf("%d summary comments, want one per run", n)
	}
	if n := e.eventCount(v1alpha1.ReasonRunReplaced); n != 1 {
		t.Errorf("%d RunReplaced events, want 1", n)
	}
}

// A TestRun of the run's name that the Repository did not start is never touched.
func TestForeignRunIsLeftAlone(t *testing.T) {
	e := newEnv(t, envOptions{})
	foreign := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo-pr4"}, Spec: v1alpha1.TestRunSpec{Recipe: "demo", Head: "v1"}}
	foreign.Default()
	if err := e.store.Create(t.Context(), foreign); err != nil {
		t.Fatal(err)
	}
	e.comment("alice", "!testme")
	e.mustSettle()
	runs := e.testRuns()
	if len(runs) != 1 || runs[0].UID != foreign.UID || runs[0].DeletionTimestamp != nil {
		t.Errorf("the operator's TestRun was replaced or deleted: %+v", runs)
	}
	if n := e.eventCount(v1alpha1.ReasonTriggerIgnored); n != 1 {
		t.Errorf("%d TriggerIgnored events, want 1", n)
	}
}

// A run deleted before its verdict gets an error status, so the pull request does not show
// it pending for ever.
func TestDeletedRunIsReportedAsError(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.comment("alice", "!testme")
	e.mustSettle()
	if _, err := e.store.Delete(t.Context(), v1alpha1.KindTestRun, "demo-pr4"); err != nil {
		t.Fatal(err)
	}
	e.mustSettle()
	st := e.forge.Statuses(ghRepo, head)
	if len(st) != 2 || st[1].State != forge.StatusError || !strings.Contains(st[1].Description, "deleted before it finished") {
		t.Errorf("statuses = %+v", st)
	}
	if n := len(e.mine("<!-- swarmrun:summary")); n != 0 {
		t.Errorf("%d summary comments for a run that never finished", n)
	}
}

// A crash after the forge took a post and before the status recorded it repeats nothing
// visible: the run is adopted by its comment label, the summary comment is found by its
// marker and edited, not posted again.
func TestCrashesDoNotDuplicate(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.comment("alice", "!testme")
	e.objects.failStatusWrites(1) // the run is created, its record is lost
	if _, err := e.step(); !errors.Is(err, errCrash) {
		t.Fatalf("step: %v, want the crash", err)
	}
	if runs := e.testRuns(); len(runs) != 1 {
		t.Fatalf("%d runs created, want 1", len(runs))
	}
	e.newReconciler()
	e.mustSettle()
	rec := e.repository().Status.PullRequest(4)
	if runs := e.testRuns(); len(runs) != 1 || rec == nil || rec.TestRunUID != runs[0].UID || len(e.repository().Status.Pending) != 0 {
		t.Fatalf("after the crash: %d runs, record %+v: want the one run adopted", len(runs), rec)
	}
	if got := e.statuses(head); strings.Join(got, ",") != "pending" {
		t.Errorf("statuses after the crash: %v", got)
	}

	e.finish("demo-pr4", true, 5)
	if res, err := e.step(); err != nil || !res.Requeue { // the verdict
		t.Fatalf("step: %v %v", res, err)
	}
	e.objects.failStatusWrites(1) // the summary comment is posted, its record is lost
	if _, err := e.step(); !errors.Is(err, errCrash) {
		t.Fatalf("step: %v, want the crash", err)
	}
	if n := len(e.mine("<!-- swarmrun:summary")); n != 1 {
		t.Fatalf("%d summary comments posted before the crash, want 1", n)
	}
	e.newReconciler()
	e.mustSettle()
	if n := len(e.mine("<!-- swarmrun:summary")); n != 1 {
		t.Errorf("%d summary comments after the crash, want 1", n)
	}
	if rec := e.repository().Status.PullRequest(4); rec == nil || rec.SummaryComment != e.mine("<!-- swarmrun:summary")[0].ID || rec.Reported != v1alpha1.StateSuccess {
		t.Errorf("record of #4: %+v", rec)
	}
}

// A forge that fails is reported in Ready and retried; nothing is lost.
func TestForgeErrorsAreRetried(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.comment("alice", "!testme")
	e.forge.Fail("GET /repos/{owner}/{repo}/pulls/{index}", http.StatusBadGateway)
	if _, err := e.settle(); err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("settle: %v, want the 502", err)
	}
	c := apimeta.FindStatusCondition(e.repository().Status.Conditions, v1alpha1.ConditionReady)
	if c == nil || c.Status != v1alpha1.ConditionFalse || c.Reason != v1alpha1.ReasonForgeError || !strings.Contains(c.Message, "pulls/4: 502") {
		t.Errorf("Ready = %+v", c)
	}
	e.mustSettle()
	if runs := e.testRuns(); len(runs) != 1 {
		t.Errorf("%d runs after the retry, want 1", len(runs))
	}
}

// Secrets: a token file others may read is refused before any request; files are read only
// under the directory of the Repository's forge host.
func TestSecrets(t *testing.T) {
	e := newEnv(t, envOptions{})
	tokenPath := filepath.Join(e.secrets, hostOf(e.forge.URL()), "token")
	if err := os.Chmod(tokenPath, 0o644); err != nil {
		t.Fatal(err)
	}
	before := len(e.forge.Requests())
	_, err := e.settle()
	if err == nil || !strings.Contains(err.Error(), "mode 0644") {
		t.Fatalf("settle with a readable token: %v", err)
	}
	if n := len(e.forge.Requests()) - before; n != 0 {
		t.Errorf("%d requests sent with a token others may read", n)
	}
	c := apimeta.FindStatusCondition(e.repository().Status.Conditions, v1alpha1.ConditionReady)
	if c == nil || c.Reason != v1alpha1.ReasonSecretUnreadable || strings.Contains(c.Message, e.token) {
		t.Errorf("Ready = %+v", c)
	}

	// A symlink out of the host's directory is not followed.
	outside := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(outside, []byte("stolen"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(tokenPath)
	if err := os.Symlink(outside, tokenPath); err != nil {
		t.Fatal(err)
	}
	if _, err := e.settle(); err == nil || !strings.Contains(err.Error(), "forge secret unreadable") || strings.Contains(err.Error(), "stolen") {
		t.Errorf("settle through a symlink out of the secrets directory: %v", err)
	}
}

func hostOf(u string) string {
	_, rest, _ := strings.Cut(u, "://")
	return strings.TrimSuffix(rest, "/")
}

// The token appears nowhere swarmrun writes: not in the status, the events, the runs, the
// comments, nor the log.
func TestTokenNeverLeaks(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.comment("bob", "!testme")
	e.comment("alice", "!testme")
	e.forge.Fail("POST /repos/{owner}/{repo}/statuses/{sha}", http.StatusInternalServerError)
	e.settle()
	e.mustSettle()
	e.finish("demo-pr4", true, 5)
	e.mustSettle()
	var written []string
	written = append(written, jsonOf(t, e.repository()), jsonOf(t, e.events()), jsonOf(t, e.testRuns()), jsonOf(t, e.forge.Comments(ghRepo, 4)))
	e.logMu.Lock()
	written = append(written, e.logs.String())
	e.logMu.Unlock()
	for _, w := range written {
		if strings.Contains(w, e.token) || strings.Contains(w, webhookSecret) {
			t.Errorf("a secret leaked into %s", w)
		}
	}
	if !strings.Contains(written[len(written)-1], "RunStarted") {
		t.Error("the log holds nothing: the test proves nothing")
	}
}

// A delivery is bounded, must be about the Repository's forge repository, and a pull
// request's closing drops its pending comments.
func TestWebhookBoundsAndPullRequestEvents(t *testing.T) {
	e := newEnv(t, envOptions{})
	big := []byte(`{"action":"created","padding":"` + strings.Repeat("x", 2<<20) + `"}`)
	if code, _ := e.deliver(forge.EventIssueComment, "big", big, webhookSecret); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MiB delivery: %d, want 413", code)
	}
	other := forge.Repo{Owner: "recipes", Name: "other"}
	e.forge.AddRepo(other)
	e.forge.AddPullRequest(other, 4, head)
	c := e.forge.Comment(other, 4, "alice", "!testme")
	if code, answer := e.deliver(forge.EventIssueComment, "other", e.forge.IssueCommentPayload(other, c, "created"), webhookSecret); code != http.StatusUnprocessableEntity {
		t.Errorf("a delivery about recipes/other: %d %s, want 422", code, answer)
	}
	if code, answer := e.deliver("push", "push-1", []byte(`{"ref":"refs/heads/main"}`), webhookSecret); code != http.StatusAccepted {
		t.Errorf("a push delivery: %d %s, want 202 (nothing to do)", code, answer)
	}

	e.comment("alice", "!testme")
	if st := e.repository().Status; len(st.Pending) != 1 {
		t.Fatalf("pending = %v", st.Pending)
	}
	e.forge.ClosePullRequest(ghRepo, 4)
	if code, answer := e.deliver(forge.EventPullRequest, "closed", e.forge.PullRequestPayload(ghRepo, 4, "closed"), webhookSecret); code != http.StatusAccepted {
		t.Fatalf("closing delivery: %d %s", code, answer)
	}
	if st := e.repository().Status; len(st.Pending) != 0 || len(st.Deliveries) != 3 {
		t.Errorf("after the closing: pending %v, deliveries %v", st.Pending, st.Deliveries)
	}
	e.mustSettle()
	if runs := e.testRuns(); len(runs) != 0 {
		t.Errorf("%d runs for a closed pull request", len(runs))
	}
}
