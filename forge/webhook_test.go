package forge_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/forge"
	"github.com/swarmrun/swarmrun/forge/forgetest"
)

func TestVerify(t *testing.T) {
	body := []byte(`{"action":"created"}`)
	secret := []byte("webhook-secret")
	good := forge.Sign(body, secret)
	bad := forge.Sign(body, []byte("another secret"))
	tests := []struct {
		name    string
		headers map[string]string
		secret  []byte
		wantErr error
		wantID  string
	}{
		{"forgejo", map[string]string{forge.HeaderForgejoSignature: good, forge.HeaderForgejoDelivery: "d1", forge.HeaderForgejoEvent: "issue_comment"}, secret, nil, "d1"},
		{"gitea", map[string]string{forge.HeaderGiteaSignature: good, forge.HeaderGiteaDelivery: "d2", forge.HeaderGiteaEvent: "issue_comment"}, secret, nil, "d2"},
		{"upper-case hex", map[string]string{forge.HeaderGiteaSignature: strings.ToUpper(good), forge.HeaderGiteaDelivery: "d3"}, secret, nil, "d3"},
		{"wrong secret", map[string]string{forge.HeaderForgejoSignature: bad, forge.HeaderForgejoDelivery: "d"}, secret, forge.ErrSignature, ""},
		{"a bad forgejo signature is not rescued by a good gitea one", map[string]string{
			forge.HeaderForgejoSignature: bad, forge.HeaderGiteaSignature: good, forge.HeaderForgejoDelivery: "d"}, secret, forge.ErrSignature, ""},
		{"no signature", map[string]string{forge.HeaderForgejoDelivery: "d"}, secret, forge.ErrSignature, ""},
		{"not hex", map[string]string{forge.HeaderForgejoSignature: "sha256=" + good, forge.HeaderForgejoDelivery: "d"}, secret, forge.ErrSignature, ""},
		{"no secret", map[string]string{forge.HeaderForgejoSignature: forge.Sign(body, nil), forge.HeaderForgejoDelivery: "d"}, nil, forge.ErrSignature, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			d, err := forge.Verify(h, body, tt.secret)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Verify = %+v, %v; want %v", d, err, tt.wantErr)
			}
			if d.ID != tt.wantID {
				t.Errorf("delivery ID = %q, want %q", d.ID, tt.wantID)
			}
		})
	}
	t.Run("no delivery ID", func(t *testing.T) {
		h := http.Header{forge.HeaderForgejoSignature: {good}}
		if _, err := forge.Verify(h, body, secret); err == nil || errors.Is(err, forge.ErrSignature) {
			t.Errorf("Verify = %v, want an error about the delivery ID", err)
		}
	})
}

func TestParseEvents(t *testing.T) {
	srv := pullRequestForge(t, forgetest.Options{})
	onPR := srv.Comment(repo, 4, "alice", "!testme")
	onIssue := srv.Comment(repo, 9, "alice", "!testme")

	e, err := forge.ParseIssueComment(forge.Delivery{ID: "d", Event: forge.EventIssueComment, Body: srv.IssueCommentPayload(repo, onPR, "created")})
	if err != nil {
		t.Fatal(err)
	}
	if e.Action != "created" || !e.OnPullRequest() || e.Issue.Number != 4 || e.Comment.ID != onPR.ID || e.Comment.User.Login != "alice" ||
		e.Comment.Body != "!testme" || e.Repository.FullName != "recipes/demo" {
		t.Errorf("issue_comment on a pull request = %+v", e)
	}
	e, err = forge.ParseIssueComment(forge.Delivery{ID: "d", Event: forge.EventIssueComment, Body: srv.IssueCommentPayload(repo, onIssue, "created")})
	if err != nil || e.OnPullRequest() {
		t.Errorf("issue_comment on an issue = %+v, %v", e, err)
	}
	p, err := forge.ParsePullRequest(forge.Delivery{ID: "d", Event: forge.EventPullRequest, Body: srv.PullRequestPayload(repo, 4, "closed")})
	if err != nil || p.Action != "closed" || p.Number != 4 || p.Repository.FullName != "recipes/demo" {
		t.Errorf("pull_request = %+v, %v", p, err)
	}
	for _, d := range []forge.Delivery{
		{ID: "d", Event: forge.EventPullRequest, Body: srv.IssueCommentPayload(repo, onPR, "created")},
		{ID: "d", Event: forge.EventIssueComment, Body: []byte(`{"action":"created"}`)},
		{ID: "d", Event: forge.EventIssueComment, Body: []byte(`not json`)},
	} {
		if _, err := forge.ParseIssueComment(d); err == nil {
			t.Errorf("ParseIssueComment(%s %s) accepted", d.Event, d.Body)
		}
	}
	if _, err := forge.ParsePullRequest(forge.Delivery{ID: "d", Event: forge.EventPullRequest, Body: []byte(`{"action":"opened"}`)}); err == nil {
		t.Error("a pull_request payload without a number was accepted")
	}
}
