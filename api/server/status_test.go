package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/client"
	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/spec"
)

const statusToken = "status-test-token"

// endpoint is one way a client reaches the API: the unix socket, or TCP with the token.
type endpoint struct {
	name  string
	hc    *http.Client
	base  string
	token string
	api   *client.Client
}

// endpoints serves one store on the unix socket and on TCP (with statusToken) and returns the
// store and a way to talk to each.
func endpoints(t *testing.T) (*store.Store, []endpoint) {
	t.Helper()
	st, sock := serve(t, server.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, ln, server.New(st, server.Options{Token: statusToken}))
	unix := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	tcp := "http://" + ln.Addr().String()
	return st, []endpoint{
		{name: "unix", hc: unix, base: "http://x", api: newClient(t, sock, "")},
		{name: "tcp", hc: &http.Client{}, base: tcp, token: statusToken, api: newClient(t, tcp, statusToken)},
	}
}

// do sends body as JSON in a raw request, as an attacker would, and returns the code and the
// answer.
func (e endpoint) do(t *testing.T, method, path, ctype string, body any) (int, []byte) {
	t.Helper()
	if body == nil {
		return e.doRaw(t, method, path, ctype, "")
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return e.doRaw(t, method, path, ctype, string(b))
}

// doRaw sends a raw request with body as it is.
func (e endpoint) doRaw(t *testing.T, method, path, ctype, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// owned returns a TestRun, a Recipe and a Repository as the controllers left them: valid
// specs and a status that matters (a stack for teardown to remove, a verdict, a canonical, the
// comments already handled).
func owned(t *testing.T, st *store.Store) []v1alpha1.Object {
	t.Helper()
	tr := testRun("pr-1", "demo")
	rc := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo"},
		Spec: v1alpha1.RecipeSpec{Source: v1alpha1.RecipeSource{URL: "/srv/recipes/demo"}}}
	repo := &v1alpha1.Repository{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo"},
		Spec: v1alpha1.RepositorySpec{Forge: v1alpha1.ForgeForgejo, URL: "https://git.example.org", Owner: "recipes", Repo: "demo",
			Recipe: "demo", TokenFile: "token", WebhookSecretFile: "secret", Trigger: v1alpha1.RepositoryTrigger{Users: []string{"alice"}}}}
	tr.Default()
	rc.Default()
	repo.Default()
	objs := []v1alpha1.Object{tr, rc, repo}
	for _, obj := range objs {
		if err := st.Create(t.Context(), obj); err != nil {
			t.Fatal(err)
		}
	}
	tr.Status.Stack = "pr-1-8f3a1c"
	tr.Status.Level = 1
	tr.Status.Conditions = []v1alpha1.Condition{{Type: v1alpha1.ConditionSucceeded, Status: v1alpha1.ConditionFalse, Reason: v1alpha1.ReasonCheckFailed, Message: "home-page: want 200, got 502"}}
	rc.Status.Canonical = &v1alpha1.Canonical{Version: "0.1.0+1", Commit: "2ba9d171", Status: "passed", Run: "pr-0"}
	repo.Status.ForgeUser = "swarmrun-bot"
	repo.Status.PullRequests = []v1alpha1.PullRequestRecord{{Number: 1, LastComment: 10, TestRun: "demo-pr1", Comment: 10}}
	for _, obj := range objs {
		if err := st.UpdateStatus(t.Context(), obj); err != nil {
			t.Fatal(err)
		}
	}
	return objs
}

// forge gives obj the status an attacker wants: a production stack for teardown, a green
// verdict at level 5, a canonical of their choosing, a queued comment that the forge never
// saw and a forgotten pull request.
func forge(obj v1alpha1.Object) {
	switch o := obj.(type) {
	case *v1alpha1.TestRun:
		o.Status.Stack = "production"
		o.Status.Level = 5
		o.Status.Conditions = []v1alpha1.Condition{{Type: v1alpha1.ConditionSucceeded, Status: v1alpha1.ConditionTrue, Reason: "Succeeded", Message: "forged"}}
	case *v1alpha1.Recipe:
		o.Status.Canonical = &v1alpha1.Canonical{Version: "6.6.6", Commit: "deadbeef", Status: "passed", Run: "forged"}
		o.Status.WarmStack = &v1alpha1.WarmStack{Name: "production", Ready: true}
	case *v1alpha1.Repository:
		o.Status.ForgeUser = "forged"
		o.Status.Pending = []v1alpha1.PendingComment{{ID: 666, PullRequest: 1}}
		o.Status.PullRequests = []v1alpha1.PullRequestRecord{{Number: 1, TestRun: "production"}}
	}
}

// statusJSON is an object's stored status, for comparing.
func statusJSON(t *testing.T, st *store.Store, obj v1alpha1.Object) string {
	t.Helper()
	got := v1alpha1.DeepCopyObject(obj)
	if err := st.Get(t.Context(), obj.GetObjectMeta().Name, got); err != nil {
		t.Fatal(err)
	}
	return statusOf(got)
}

func statusOf(obj v1alpha1.Object) string {
	var s any
	switch o := obj.(type) {
	case *v1alpha1.TestRun:
		s = o.Status
	case *v1alpha1.Recipe:
		s = o.Status
	case *v1alpha1.Repository:
		s = o.Status
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// eachCase runs fn as a subtest for every endpoint and object.
func eachCase(t *testing.T, eps []endpoint, objs []v1alpha1.Object, fn func(t *testing.T, e endpoint, obj v1alpha1.Object)) {
	t.Helper()
	for _, e := range eps {
		for _, obj := range objs {
			t.Run(e.name+"/"+obj.GetTypeMeta().Kind, func(t *testing.T) { fn(t, e, obj) })
		}
	}
}

// TestClientsCannotWriteStatus: only the controllers (in process, on the store) write status.
// Every write to the status subresource is refused with 403, on the socket and on TCP with a
// valid token, for every kind; reads still work.
func TestClientsCannotWriteStatus(t *testing.T) {
	st, eps := endpoints(t)
	eachCase(t, eps, owned(t, st), func(t *testing.T, e endpoint, obj v1alpha1.Object) {
		path := server.Path(obj.GetTypeMeta().Kind, obj.GetObjectMeta().Name, "status")
		before := statusJSON(t, st, obj)
		forged := v1alpha1.DeepCopyObject(obj)
		forge(forged)
		for _, m := range []struct{ method, ctype string }{
			{http.MethodPut, "application/json"},
			{http.MethodPatch, server.ApplyContentType},
			{http.MethodPost, "application/json"},
			{http.MethodDelete, ""},
		} {
			code, body := e.do(t, m.method, path, m.ctype, forged)
			var s server.Status
			if err := json.Unmarshal(body, &s); err != nil {
				t.Fatalf("%s %s: %d %s", m.method, path, code, body)
			}
			if code != http.StatusForbidden || s.Reason != server.ReasonForbidden || !strings.Contains(s.Message, "written by swarmrun's controllers") {
				t.Errorf("%s %s = %d %s %q, want 403 Forbidden", m.method, path, code, s.Reason, s.Message)
			}
		}
		if after := statusJSON(t, st, obj); after != before {
			t.Errorf("stored status changed:\n%s\nwas\n%s", after, before)
		}
		code, body := e.do(t, http.MethodGet, path, "", nil)
		if code != http.StatusOK || !strings.Contains(string(body), `"status":`+before) {
			t.Errorf("GET %s = %d %s, want the stored status", path, code, body)
		}
	})
}

// TestSpecWritesKeepStoredStatus: a client's spec write (PUT of the object, server-side apply)
// carrying a forged status changes the spec and keeps the stored status; an apply that creates
// an object stores no status at all.
func TestSpecWritesKeepStoredStatus(t *testing.T) {
	st, eps := endpoints(t)
	eachCase(t, eps, owned(t, st), func(t *testing.T, e endpoint, obj v1alpha1.Object) {
		kind := obj.GetTypeMeta().Kind
		before := statusJSON(t, st, obj)
		for _, m := range []struct{ method, ctype string }{
			{http.MethodPut, "application/json"},
			{http.MethodPatch, server.ApplyContentType},
		} {
			cur := v1alpha1.DeepCopyObject(obj)
			if err := st.Get(t.Context(), obj.GetObjectMeta().Name, cur); err != nil {
				t.Fatal(err)
			}
			cur.GetObjectMeta().Labels = map[string]string{"write": e.name + "-" + m.method}
			forge(cur)
			code, body := e.do(t, m.method, server.Path(kind, cur.GetObjectMeta().Name, ""), m.ctype, cur)
			if code != http.StatusOK {
				t.Fatalf("%s = %d %s", m.method, code, body)
			}
			if strings.Contains(string(body), "production") || strings.Contains(string(body), "forged") {
				t.Errorf("%s answered with the forged status: %s", m.method, body)
			}
			if after := statusJSON(t, st, obj); after != before {
				t.Errorf("%s changed the stored status:\n%s\nwas\n%s", m.method, after, before)
			}
		}

		fresh := v1alpha1.DeepCopyObject(obj)
		fresh.GetObjectMeta().Name = "new-" + e.name
		fresh.GetObjectMeta().ResourceVersion = ""
		forge(fresh)
		code, body := e.do(t, http.MethodPatch, server.Path(kind, fresh.GetObjectMeta().Name, ""), server.ApplyContentType, fresh)
		if code != http.StatusCreated {
			t.Fatalf("apply new = %d %s", code, body)
		}
		empty := v1alpha1.DeepCopyObject(fresh)
		spec.ClearStatus(empty)
		if got, want := statusJSON(t, st, fresh), statusOf(empty); got != want {
			t.Errorf("apply created %s with status %s, want none", fresh.GetObjectMeta().Name, got)
		}
	})
}
