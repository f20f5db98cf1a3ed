package forge_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/forge"
	"github.com/swarmrun/swarmrun/forge/forgetest"
)

// fixture is a test forge with the bot, alice and bob, the repository recipes/demo with pull
// request 4, and the team recipes/maintainers (alice).
type fixture struct {
	srv   *forgetest.Server
	bot   *forge.Client
	token string
	team  int64
	clock time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	f.srv = pullRequestForge(t, forgetest.Options{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); f.clock = f.clock.Add(time.Minute); return f.clock }})
	f.token = f.srv.AddUser("swarmrun-bot")
	f.team = f.srv.AddTeam("recipes", "maintainers", "alice")
	f.bot = client(t, f.srv.URL(), f.token)
	return f
}

// pullRequestForge is a test forge with alice and pull request 4 of recipes/demo.
func pullRequestForge(t *testing.T, o forgetest.Options) *forgetest.Server {
	t.Helper()
	srv := forgetest.New(t, o)
	srv.AddUser("alice")
	srv.AddRepo(repo)
	srv.AddPullRequest(repo, 4, "ae5a8180")
	return srv
}

func client(t *testing.T, url, token string) *forge.Client {
	t.Helper()
	c, err := forge.New(forge.Options{URL: url, Token: forge.NewToken(token)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenNeverPrints(t *testing.T) {
	tok := forge.NewToken("s3cr3t-value")
	holder := struct {
		Token forge.Token
		Ptr   *forge.Token
	}{tok, &tok}
	for _, format := range []string{"%v", "%s", "%q", "%x", "%X", "%#v", "%+v", "%d", "%10s"} {
		if out := fmt.Sprintf(format, tok) + fmt.Sprintf(format, holder); strings.Contains(out, "s3cr3t") || strings.Contains(out, fmt.Sprintf("%x", "s3cr3t")) {
			t.Errorf("%s prints the token: %s", format, out)
		}
	}
	b, err := json.Marshal(holder)
	if err != nil || strings.Contains(string(b), "s3cr3t") {
		t.Errorf("JSON %s, %v", b, err)
	}
	if txt, _ := tok.MarshalText(); string(txt) != "***" {
		t.Errorf("text = %s", txt)
	}
	if tok.IsZero() || !forge.NewToken("").IsZero() {
		t.Error("IsZero is wrong")
	}
}

func TestNewRefuses(t *testing.T) {
	for _, o := range []forge.Options{
		{URL: "https://git.example.org"},
		{URL: "git.example.org", Token: forge.NewToken("x")},
		{URL: "ftp://git.example.org", Token: forge.NewToken("x")},
	} {
		if _, err := forge.New(o); err == nil {
			t.Errorf("New(%s) accepted", o.URL)
		}
	}
}

func TestErrorsNameTheRouteNotTheToken(t *testing.T) {
	f := newFixture(t)
	wrong := client(t, f.srv.URL(), "not-a-token-of-this-forge")
	_, err := wrong.CurrentUser(t.Context())
	var fe *forge.Error
	if !errors.As(err, &fe) || fe.Code != http.StatusUnauthorized || fe.Route != "/user" {
		t.Fatalf("wrong token: %v, want a 401 of /user", err)
	}
	if strings.Contains(err.Error(), "not-a-token") {
		t.Errorf("the error shows the token: %v", err)
	}
	_, err = f.bot.PullRequest(t.Context(), repo, 99)
	if !errors.Is(err, forge.ErrNotFound) || !strings.Contains(err.Error(), "GET /repos/recipes/demo/pulls/99: 404") {
		t.Errorf("missing pull request: %v, want ErrNotFound naming the route", err)
	}
	f.srv.Fail("GET /repos/{owner}/{repo}/pulls/{index}", http.StatusBadGateway)
	_, err = f.bot.PullRequest(t.Context(), repo, 4)
	if !errors.As(err, &fe) || fe.Code != http.StatusBadGateway || errors.Is(err, forge.ErrNotFound) {
		t.Errorf("a 502: %v", err)
	}
	if pr, err := f.bot.PullRequest(t.Context(), repo, 4); err != nil || pr.Head.SHA != "ae5a8180" || pr.State != "open" || pr.Number != 4 {
		t.Errorf("pull request 4 = %+v, %v", pr, err)
	}
}

func TestRepoCommentsPagesAndSince(t *testing.T) {
	f := newFixture(t)
	var ids []int64
	for i := range forge.PageSize + 5 {
		ids = append(ids, f.srv.Comment(repo, 4, "alice", fmt.Sprintf("comment %d", i)).ID)
	}
	f.srv.AddPullRequest(repo, 5, "bbbb")
	f.srv.Comment(repo, 6, "alice", "on an issue")
	first, err := f.bot.RepoComments(t.Context(), repo, time.Time{}, 1)
	if err != nil || len(first) != forge.PageSize || first[0].ID != ids[0] {
		t.Fatalf("page 1: %d comments, %v", len(first), err)
	}
	second, err := f.bot.RepoComments(t.Context(), repo, time.Time{}, 2)
	if err != nil || len(second) != 6 || second[0].ID != ids[forge.PageSize] {
		t.Fatalf("page 2: %d comments, %v", len(second), err)
	}
	if n := second[0].PullRequestNumber(); n != 4 {
		t.Errorf("a comment on pull request 4 says %d (%s)", n, second[0].PullRequestURL)
	}
	if n := second[5].PullRequestNumber(); n != 0 {
		t.Errorf("a comment on an issue says pull request %d", n)
	}
	since, err := f.bot.RepoComments(t.Context(), repo, first[len(first)-1].Updated, 1)
	if err != nil || len(since) != 7 || since[0].ID != first[len(first)-1].ID {
		t.Errorf("since the last of page 1: %d comments (want 7, from it on), %v", len(since), err)
	}
}

func TestComments(t *testing.T) {
	f := newFixture(t)
	alice := client(t, f.srv.URL(), f.srv.AddUser("alice"))
	theirs, err := alice.CreateComment(t.Context(), repo, 4, "!testme")
	if err != nil || theirs.User.Login != "alice" || theirs.PullRequestNumber() != 4 {
		t.Fatalf("alice's comment = %+v, %v", theirs, err)
	}
	mine, err := f.bot.CreateComment(t.Context(), repo, 4, "first")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.bot.EditComment(t.Context(), repo, mine.ID, "second"); err != nil {
		t.Fatal(err)
	}
	var fe *forge.Error
	if _, err := f.bot.EditComment(t.Context(), repo, theirs.ID, "hijacked"); !errors.As(err, &fe) || fe.Code != http.StatusForbidden {
		t.Errorf("editing alice's comment: %v, want 403", err)
	}
	got, err := f.bot.Comment(t.Context(), repo, mine.ID)
	if err != nil || got.Body != "second" || got.User.Login != "swarmrun-bot" || !got.Updated.After(got.Created) {
		t.Errorf("edited comment = %+v, %v", got, err)
	}
	all, err := f.bot.IssueComments(t.Context(), repo, 4)
	if err != nil || len(all) != 2 || all[0].Body != "!testme" || all[1].Body != "second" {
		t.Errorf("comments of #4 = %+v, %v", all, err)
	}
}

func TestStatuses(t *testing.T) {
	f := newFixture(t)
	for _, st := range []forge.StatusState{forge.StatusPending, forge.StatusFailure} {
		if err := f.bot.CreateStatus(t.Context(), repo, "ae5a8180", forge.Status{Context: "swarmrun/demo", State: st, Description: "d"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.bot.CreateStatus(t.Context(), repo, "ae5a8180", forge.Status{State: "green"}); err == nil {
		t.Error("a state the forge does not know was accepted")
	}
	got := f.srv.Statuses(repo, "ae5a8180")
	if len(got) != 2 || got[0].State != forge.StatusPending || got[1].State != forge.StatusFailure || got[1].Creator != "swarmrun-bot" {
		t.Errorf("statuses = %+v", got)
	}
}

func TestMembership(t *testing.T) {
	f := newFixture(t)
	f.srv.AddUser("bob")
	// The bot is not a member of recipes: the forge hides its teams and redirects the
	// membership check to the public membership.
	if _, err := f.bot.OrgTeams(t.Context(), "recipes", 1); err == nil {
		t.Error("a non-member listed the organisation's teams")
	}
	if _, err := f.bot.IsTeamMember(t.Context(), f.team, "alice"); err == nil {
		t.Error("a non-member was told about team membership")
	}
	f.srv.AddOrgMember("recipes", "carol", true)
	for user, want := range map[string]bool{"alice": false, "carol": true, "bob": false} {
		if got, err := f.bot.IsOrgMember(t.Context(), "recipes", user); err != nil || got != want {
			t.Errorf("public membership of %s = %v, %v; want %v", user, got, err, want)
		}
	}
	f.srv.AddOrgMember("recipes", "swarmrun-bot", false)
	teams, err := f.bot.OrgTeams(t.Context(), "recipes", 1)
	if err != nil || len(teams) != 1 || teams[0].Name != "maintainers" || teams[0].ID != f.team {
		t.Fatalf("teams = %+v, %v", teams, err)
	}
	for user, want := range map[string]bool{"alice": true, "ALICE": true, "bob": false} {
		if got, err := f.bot.IsTeamMember(t.Context(), f.team, user); err != nil || got != want {
			t.Errorf("team membership of %s = %v, %v; want %v", user, got, err, want)
		}
		if got, err := f.bot.IsOrgMember(t.Context(), "recipes", user); err != nil || got != want {
			t.Errorf("membership of %s = %v, %v; want %v", user, got, err, want)
		}
	}
}

// A redirect off the forge's host is not followed: the token goes to the forge only.
func TestRedirectsStayOnTheForge(t *testing.T) {
	var mu sync.Mutex
	var leaked []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = append(leaked, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write([]byte(`{"login":"mallory"}`))
	}))
	defer elsewhere.Close()
	forgeSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
	}))
	defer forgeSrv.Close()
	_, err := client(t, forgeSrv.URL, "s3cr3t").CurrentUser(t.Context())
	var fe *forge.Error
	if !errors.As(err, &fe) || fe.Code != http.StatusFound {
		t.Errorf("redirected request: %v, want the 302 as an error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) > 0 {
		t.Errorf("the redirect was followed to another host, with Authorization %q", leaked)
	}
}

// Names go into the path escaped, one segment each, and a big answer is refused.
func TestPathsAndLimits(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RawPath+r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		if strings.HasSuffix(r.URL.Path, "/user") {
			w.Write([]byte(`{"login":"` + strings.Repeat("x", forge.MaxResponseBytes) + `"}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := client(t, srv.URL+"/sub/", "t")
	if _, err := c.IsOrgMember(t.Context(), "a/b", "c?d=1"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(got[0], "/sub/api/v1/orgs/a%2Fb/members/c%3Fd=1?") {
		t.Errorf("requested %v", got)
	}
	if _, err := c.CurrentUser(t.Context()); err == nil || !strings.Contains(err.Error(), "answer over") {
		t.Errorf("a %d-byte answer: %v", forge.MaxResponseBytes, err)
	}
}
