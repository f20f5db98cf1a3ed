package forge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/forge"
	"github.com/swarmrun/swarmrun/forge/forgetest"
)

// route is one route of the forges' API that swarmrun depends on, as the API description
// (templates/swagger/v1_json.tmpl in go-gitea/gitea, which Forgejo keeps) documents it:
// every parameter the client sends and every field it reads.
type route struct {
	// op is the route's operationId and pattern its method and path.
	op, pattern string
	// method is the Client method that calls it.
	method string
	// query are the query parameters sent and sends the request body's fields (a definition).
	query, sends []string
	// reads are the answer's fields the client decodes, as JSON paths.
	reads []string
	call  func(ctx context.Context, c *forge.Client) (any, error)
}

// commentFields are the fields of the definition Comment swarmrun reads.
var commentFields = []string{"body", "created_at", "html_url", "id", "pull_request_url", "updated_at", "user.login"}

var (
	repo    = forge.Repo{Owner: "recipes", Name: "demo"}
	teamID  int64
	comment forge.Comment
)

var contract = []route{
	{op: "userGetCurrent", pattern: "GET /user", method: "CurrentUser", reads: []string{"login"},
		call: func(ctx context.Context, c *forge.Client) (any, error) { return c.CurrentUser(ctx) }},
	{op: "repoGetPullRequest", pattern: "GET /repos/{owner}/{repo}/pulls/{index}", method: "PullRequest",
		reads: []string{"head.sha", "number", "state"},
		call:  func(ctx context.Context, c *forge.Client) (any, error) { return c.PullRequest(ctx, repo, 4) }},
	{op: "issueGetRepoComments", pattern: "GET /repos/{owner}/{repo}/issues/comments", method: "RepoComments",
		query: []string{"limit", "page", "since"}, reads: commentFields,
		call: func(ctx context.Context, c *forge.Client) (any, error) {
			return c.RepoComments(ctx, repo, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 1)
		}},
	{op: "issueGetComment", pattern: "GET /repos/{owner}/{repo}/issues/comments/{id}", method: "Comment", reads: commentFields,
		call: func(ctx context.Context, c *forge.Client) (any, error) { return c.Comment(ctx, repo, comment.ID) }},
	{op: "issueGetComments", pattern: "GET /repos/{owner}/{repo}/issues/{index}/comments", method: "IssueComments", reads: commentFields,
		call: func(ctx context.Context, c *forge.Client) (any, error) { return c.IssueComments(ctx, repo, 4) }},
	{op: "issueCreateComment", pattern: "POST /repos/{owner}/{repo}/issues/{index}/comments", method: "CreateComment",
		sends: []string{"body"}, reads: commentFields,
		call: func(ctx context.Context, c *forge.Client) (any, error) { return c.CreateComment(ctx, repo, 4, "hello") }},
	{op: "issueEditComment", pattern: "PATCH /repos/{owner}/{repo}/issues/comments/{id}", method: "EditComment",
		sends: []string{"body"}, reads: commentFields,
		call: func(ctx context.Context, c *forge.Client) (any, error) {
			mine, err := c.CreateComment(ctx, repo, 4, "draft")
			if err != nil {
				return nil, err
			}
			return c.EditComment(ctx, repo, mine.ID, "final")
		}},
	{op: "repoCreateStatus", pattern: "POST /repos/{owner}/{repo}/statuses/{sha}", method: "CreateStatus",
		sends: []string{"context", "description", "state", "target_url"},
		call: func(ctx context.Context, c *forge.Client) (any, error) {
			return nil, c.CreateStatus(ctx, repo, "ae5a8180", forge.Status{Context: "swarmrun/demo", Description: "level 5/5", State: forge.StatusSuccess, TargetURL: "https://ci.example.org/x"})
		}},
	{op: "orgListTeams", pattern: "GET /orgs/{org}/teams", method: "OrgTeams", query: []string{"limit", "page"}, reads: []string{"id", "name"},
		call: func(ctx context.Context, c *forge.Client) (any, error) { return c.OrgTeams(ctx, "recipes", 1) }},
	{op: "orgListTeamMember", pattern: "GET /teams/{id}/members/{username}", method: "IsTeamMember",
		call: func(ctx context.Context, c *forge.Client) (any, error) { return c.IsTeamMember(ctx, teamID, "alice") }},
	{op: "orgIsMember", pattern: "GET /orgs/{org}/members/{username}", method: "IsOrgMember",
		call: func(ctx context.Context, c *forge.Client) (any, error) { return c.IsOrgMember(ctx, "recipes", "alice") }},
}

// answers records the body of every answer the client received, by request.
type answers struct {
	mu   sync.Mutex
	last []byte
}

func (a *answers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	a.mu.Lock()
	a.last = b
	a.mu.Unlock()
	return resp, nil
}

// TestContract calls every route swarmrun depends on against the test forge and checks that
// the client sends exactly the parameters and fields the contract names, decodes exactly the
// fields it names, that the test forge answers with each of those fields, and that no
// method of the Client is left out of the contract.
func TestContract(t *testing.T) {
	srv := pullRequestForge(t, forgetest.Options{})
	token := srv.AddUser("swarmrun-bot")
	srv.AddOrgMember("recipes", "swarmrun-bot", false)
	teamID = srv.AddTeam("recipes", "maintainers", "alice")
	comment = srv.Comment(repo, 4, "alice", "!testme")
	rec := &answers{}
	c, err := forge.New(forge.Options{URL: srv.URL(), Token: forge.NewToken(token), HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range contract {
		t.Run(rt.op, func(t *testing.T) {
			before := len(srv.Requests())
			out, err := rt.call(t.Context(), c)
			if err != nil {
				t.Fatalf("%s: %v", rt.method, err)
			}
			reqs := srv.Requests()[before:]
			last := reqs[len(reqs)-1]
			if last.Pattern != rt.pattern || last.Method != strings.Fields(rt.pattern)[0] {
				t.Fatalf("%s requested %s %s (%s), want %s", rt.method, last.Method, last.Path, last.Pattern, rt.pattern)
			}
			if !slices.Equal(last.Query, rt.query) || !slices.Equal(last.Body, rt.sends) {
				t.Errorf("%s sent query %v and body %v, want %v and %v", rt.method, last.Query, last.Body, rt.query, rt.sends)
			}
			var reads []string
			if out != nil {
				reads = jsonPaths(reflect.TypeOf(out), "")
			}
			slices.Sort(reads)
			if !slices.Equal(reads, rt.reads) {
				t.Errorf("%s decodes %v, the contract names %v", rt.method, reads, rt.reads)
			}
			if len(rt.reads) > 0 {
				rec.mu.Lock()
				body := rec.last
				rec.mu.Unlock()
				for _, p := range rt.reads {
					if !hasPath(t, body, p) {
						t.Errorf("the test forge's answer to %s lacks %s: %s", rt.pattern, p, body)
					}
				}
			}
		})
	}
	covered := map[string]bool{}
	for _, rt := range contract {
		covered[rt.method] = true
	}
	ct := reflect.TypeOf(c)
	for i := range ct.NumMethod() {
		if m := ct.Method(i).Name; !covered[m] {
			t.Errorf("Client.%s is not in the contract", m)
		}
	}
}

// The webhook payloads: the fields swarmrun reads, which the test forge's deliveries carry.
func TestWebhookContract(t *testing.T) {
	srv := pullRequestForge(t, forgetest.Options{})
	c := srv.Comment(repo, 4, "alice", "!testme")
	tests := []struct {
		typ     any
		payload []byte
		reads   []string
	}{
		{forge.IssueCommentEvent{}, srv.IssueCommentPayload(repo, c, "created"), append([]string{
			"action", "is_pull", "issue.number", "issue.pull_request", "repository.full_name"},
			prefixed("comment.", commentFields)...)},
		{forge.PullRequestEvent{}, srv.PullRequestPayload(repo, 4, "closed"), []string{
			"action", "number", "pull_request.head.sha", "pull_request.number", "pull_request.state", "repository.full_name"}},
	}
	for _, tt := range tests {
		name := reflect.TypeOf(tt.typ).Name()
		got := jsonPaths(reflect.TypeOf(tt.typ), "")
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tt.reads))
		if !slices.Equal(got, want) {
			t.Errorf("%s decodes %v, the contract names %v", name, got, want)
		}
		for _, p := range want {
			if !hasPath(t, tt.payload, p) {
				t.Errorf("the test forge's %s payload lacks %s: %s", name, p, tt.payload)
			}
		}
	}
}

func prefixed(prefix string, fields []string) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = prefix + f
	}
	return out
}

// jsonPaths lists the JSON paths a type decodes: struct fields by their json names, nested
// with dots, through pointers and slices; times and empty structs are leaves.
func jsonPaths(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeOf(time.Time{}) || t.NumField() == 0 {
		if prefix == "" {
			return nil
		}
		return []string{prefix}
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || name == "" {
			continue
		}
		if prefix != "" {
			name = prefix + "." + name
		}
		out = append(out, jsonPaths(f.Type, name)...)
	}
	return out
}

// hasPath reports whether the JSON document (or the first item of a JSON list) has a value
// at path.
func hasPath(t *testing.T, doc []byte, path string) bool {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, doc)
	}
	if l, ok := v.([]any); ok {
		if len(l) == 0 {
			return false
		}
		v = l[0]
	}
	for _, step := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[step]; !ok {
			return false
		}
	}
	return true
}
