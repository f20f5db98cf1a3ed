package forgetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/forge"
)

// Options configure a Server.
type Options struct {
	// Now stamps comments; default time.Now. The forge keeps times to the second.
	Now func() time.Time
}

// Request is one request the server answered.
type Request struct {
	Method string
	// Pattern is the route as the API description writes it, e.g.
	// GET /repos/{owner}/{repo}/pulls/{index}.
	Pattern string
	// Path is the request's path below /api/v1.
	Path string
	// Query and Body are the query's keys and the JSON body's top-level keys, sorted.
	Query, Body []string
	// User is the login the token belongs to.
	User string
	// Code is the status answered.
	Code int
}

// Server is a Forgejo/Gitea API over an in-memory state. Its methods are safe for concurrent
// use with the requests it serves.
type Server struct {
	srv *httptest.Server
	now func() time.Time

	mu       sync.Mutex
	nextID   int64
	tokens   map[string]string // token → login
	orgs     map[string]*org   // by lower-case name
	teams    map[int64]*team
	repos    map[string]*repo // by lower-case owner/name
	requests []Request
	failures map[string][]int // pattern → codes to answer next
}

type org struct {
	name    string
	members map[string]bool // lower-case login → public
	teams   []*team
}

type team struct {
	id      int64
	org     *org
	name    string
	members map[string]bool
}

type repo struct {
	owner, name string
	pulls       map[int64]*pull
	comments    []*comment
	statuses    map[string][]StatusRecord
}

type pull struct {
	number int64
	state  string
	head   string
}

type comment struct {
	id               int64
	issue            int64
	onPull           bool
	user, body       string
	created, updated time.Time
}

// StatusRecord is a commit status as posted, with who posted it.
type StatusRecord struct {
	forge.Status
	Creator string
}

// New starts a Server, stopped when the test ends.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	s := Start(o)
	t.Cleanup(s.Close)
	return s
}

// Start starts a Server on a loopback port; Close stops it.
func Start(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{now: o.Now, tokens: map[string]string{}, orgs: map[string]*org{}, teams: map[int64]*team{},
		repos: map[string]*repo{}, failures: map[string][]int{}}
	// The routes are matched in this order, the first that fits wins: net/http's ServeMux
	// refuses issues/comments/{id} beside issues/{index}/comments, which the API has both.
	var routes []route
	for _, r := range []struct {
		pattern string
		h       func(w http.ResponseWriter, r *http.Request, login string) (int, any)
	}{
		{"GET /user", s.currentUser},
		{"GET /repos/{owner}/{repo}/pulls/{index}", s.getPull},
		{"GET /repos/{owner}/{repo}/issues/comments", s.repoComments},
		{"GET /repos/{owner}/{repo}/issues/comments/{id}", s.getComment},
		{"PATCH /repos/{owner}/{repo}/issues/comments/{id}", s.editComment},
		{"GET /repos/{owner}/{repo}/issues/{index}/comments", s.issueComments},
		{"POST /repos/{owner}/{repo}/issues/{index}/comments", s.createComment},
		{"POST /repos/{owner}/{repo}/statuses/{sha}", s.createStatus},
		{"GET /orgs/{org}/teams", s.orgTeams},
		{"GET /orgs/{org}/members/{username}", s.orgIsMember},
		{"GET /orgs/{org}/public_members/{username}", s.orgIsPublicMember},
		{"GET /teams/{id}/members/{username}", s.teamMember},
	} {
		method, path, _ := strings.Cut(r.pattern, " ")
		routes = append(routes, route{method: method, segments: strings.Split(strings.Trim(path, "/"), "/"), h: s.serve(r.pattern, r.h)})
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.EscapedPath(), forge.APIPath+"/"); ok {
			for _, rt := range routes {
				if rt.match(r, strings.Split(rest, "/")) {
					rt.h(w, r)
					return
				}
			}
		}
		s.record(Request{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, forge.APIPath), Code: http.StatusNotFound})
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "no such route"})
	}))
	return s
}

// Close stops the server and waits for the requests in flight.
func (s *Server) Close() { s.srv.Close() }

// route is one API route: its method and path segments, {name} for a path value.
type route struct {
	method   string
	segments []string
	h        http.HandlerFunc
}

// match reports whether the request's method and path segments (below /api/v1) fit the
// route, and sets the path values when they do.
func (rt route) match(r *http.Request, path []string) bool {
	if r.Method != rt.method || len(path) != len(rt.segments) {
		return false
	}
	values := map[string]string{}
	for i, seg := range rt.segments {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			v, err := url.PathUnescape(path[i])
			if err != nil || v == "" {
				return false
			}
			values[strings.TrimSuffix(name, "}")] = v
		} else if seg != path[i] {
			return false
		}
	}
	for k, v := range values {
		r.SetPathValue(k, v)
	}
	return true
}

// URL is the forge's root URL; the API is under /api/v1.
func (s *Server) URL() string { return s.srv.URL }

// serve authenticates a request, records it and answers with what h returns (a body of nil
// answers without one), unless a failure was queued for the route.
func (s *Server) serve(pattern string, h func(w http.ResponseWriter, r *http.Request, login string) (int, any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := Request{Method: r.Method, Pattern: pattern, Path: strings.TrimPrefix(r.URL.Path, forge.APIPath),
			Query: slices.Sorted(maps.Keys(r.URL.Query()))}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if len(body) > 0 {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(body, &m); err != nil {
				rec.Code = http.StatusUnprocessableEntity
				s.record(rec)
				writeJSON(w, rec.Code, map[string]string{"message": "body is not a JSON object"})
				return
			}
			rec.Body = slices.Sorted(maps.Keys(m))
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		login, ok := s.tokens[tokenOf(r)]
		var fail int
		if q := s.failures[pattern]; ok && len(q) > 0 {
			fail, s.failures[pattern] = q[0], q[1:]
		}
		s.mu.Unlock()
		rec.User = login
		var (
			code int
			out  any
		)
		switch {
		case !ok:
			code, out = http.StatusUnauthorized, map[string]string{"message": "token is required"}
		case fail != 0:
			code, out = fail, map[string]string{"message": "failure the test asked for"}
		default:
			code, out = h(w, r, login)
		}
		rec.Code = code
		s.record(rec)
		switch {
		case code == http.StatusSeeOther:
			// h set Location
			w.WriteHeader(code)
		case out == nil:
			w.WriteHeader(code)
		default:
			writeJSON(w, code, out)
		}
	}
}

// tokenOf reads the token the forges accept: "token X" or "Bearer X".
func tokenOf(r *http.Request) string {
	a := r.Header.Get("Authorization")
	for _, p := range []string{"token ", "Bearer "} {
		if t, ok := strings.CutPrefix(a, p); ok {
			return t
		}
	}
	return ""
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Requests returns the requests answered so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Fail makes the next requests to pattern (as in Request.Pattern) answer the codes given, one
// each, instead of being served.
func (s *Server) Fail(pattern string, codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[pattern] = append(s.failures[pattern], codes...)
}

// AddUser creates a user and returns a token that acts as it.
func (s *Server) AddUser(login string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	token := fmt.Sprintf("token-%s-%d", strings.ToLower(login), s.nextID)
	s.tokens[token] = login
	return token
}

// AddRepo creates a repository.
func (s *Server) AddRepo(r forge.Repo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[key(r)] = &repo{owner: r.Owner, name: r.Name, pulls: map[int64]*pull{}, statuses: map[string][]StatusRecord{}}
}

// AddPullRequest opens pull request n of r with its head at sha.
func (s *Server) AddPullRequest(r forge.Repo, n int64, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repo(r).pulls[n] = &pull{number: n, state: "open", head: sha}
}

// SetHead moves pull request n's head to sha, as a push to its branch does.
func (s *Server) SetHead(r forge.Repo, n int64, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repo(r).pulls[n].head = sha
}

// ClosePullRequest closes pull request n.
func (s *Server) ClosePullRequest(r forge.Repo, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repo(r).pulls[n].state = "closed"
}

// AddOrgMember makes login a member of the organisation, publicly or not.
func (s *Server) AddOrgMember(orgName, login string, public bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.org(orgName).members[strings.ToLower(login)] = public
}

// AddTeam creates a team of the organisation with members (who join the organisation too)
// and returns its ID.
func (s *Server) AddTeam(orgName, name string, members ...string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.org(orgName)
	s.nextID++
	t := &team{id: s.nextID, org: o, name: name, members: map[string]bool{}}
	for _, m := range members {
		t.members[strings.ToLower(m)] = true
		if _, ok := o.members[strings.ToLower(m)]; !ok {
			o.members[strings.ToLower(m)] = false
		}
	}
	o.teams = append(o.teams, t)
	s.teams[t.id] = t
	return t.id
}

// Comment posts a comment on issue or pull request n of r as login, as the web page does,
// and returns it as the API shows it.
func (s *Server) Comment(r forge.Repo, n int64, login, body string) forge.Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repo(r)
	return s.apiComment(rp, s.addComment(rp, n, login, body))
}

// EditComment replaces the body of comment id as its author does on the web page.
func (s *Server) EditComment(r forge.Repo, id int64, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.repo(r).comments {
		if c.id == id {
			c.body, c.updated = body, s.stamp()
		}
	}
}

// Comments returns the comments on issue or pull request n of r, oldest first.
func (s *Server) Comments(r forge.Repo, n int64) []forge.Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repo(r)
	var out []forge.Comment
	for _, c := range rp.comments {
		if c.issue == n {
			out = append(out, s.apiComment(rp, c))
		}
	}
	return out
}

// Statuses returns the commit statuses posted on sha in r, oldest first.
func (s *Server) Statuses(r forge.Repo, sha string) []StatusRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.repo(r).statuses[sha])
}

func key(r forge.Repo) string { return strings.ToLower(r.Owner + "/" + r.Name) }

// repo returns r's state; the test must have added it.
func (s *Server) repo(r forge.Repo) *repo {
	rp := s.repos[key(r)]
	if rp == nil {
		panic("forgetest: no repository " + r.String() + " (AddRepo it first)")
	}
	return rp
}

func (s *Server) org(name string) *org {
	o := s.orgs[strings.ToLower(name)]
	if o == nil {
		o = &org{name: name, members: map[string]bool{}}
		s.orgs[strings.ToLower(name)] = o
	}
	return o
}

func (s *Server) stamp() time.Time { return s.now().UTC().Truncate(time.Second) }

func (s *Server) addComment(rp *repo, n int64, login, body string) *comment {
	s.nextID++
	now := s.stamp()
	_, onPull := rp.pulls[n]
	c := &comment{id: s.nextID, issue: n, onPull: onPull, user: login, body: body, created: now, updated: now}
	rp.comments = append(rp.comments, c)
	return c
}

// apiComment is a comment as the API shows it (definition Comment): a comment on a pull
// request has a pull_request_url and an empty issue_url, one on an issue the other way round.
func (s *Server) apiComment(rp *repo, c *comment) forge.Comment {
	web := fmt.Sprintf("%s/%s/%s", s.srv.URL, rp.owner, rp.name)
	cm := forge.Comment{ID: c.id, Body: c.body, User: forge.User{Login: c.user}, Created: c.created, Updated: c.updated}
	if c.onPull {
		cm.PullRequestURL = fmt.Sprintf("%s/pulls/%d", web, c.issue)
		cm.HTMLURL = fmt.Sprintf("%s/pulls/%d#issuecomment-%d", web, c.issue, c.id)
	} else {
		cm.HTMLURL = fmt.Sprintf("%s/issues/%d#issuecomment-%d", web, c.issue, c.id)
	}
	return cm
}

// wire is what the API sends for a comment: the definition Comment, every field.
func (s *Server) wire(rp *repo, c *comment) map[string]any {
	cm := s.apiComment(rp, c)
	issueURL := ""
	if !c.onPull {
		issueURL = fmt.Sprintf("%s/%s/%s/issues/%d", s.srv.URL, rp.owner, rp.name, c.issue)
	}
	return map[string]any{
		"id": cm.ID, "body": cm.Body, "html_url": cm.HTMLURL, "issue_url": issueURL, "pull_request_url": cm.PullRequestURL,
		"created_at": cm.Created.Format(time.RFC3339), "updated_at": cm.Updated.Format(time.RFC3339),
		"original_author": "", "original_author_id": 0, "user": userWire(c.user),
	}
}

func userWire(login string) map[string]any {
	return map[string]any{"id": len(login), "login": login, "login_name": "", "full_name": login, "email": login + "@noreply.example.org",
		"avatar_url": "", "language": "", "is_admin": false, "username": login}
}

// pathRepo finds the repository a request names; ok false has answered 404.
func (s *Server) pathRepo(r *http.Request) (*repo, bool) {
	rp := s.repos[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo"))]
	return rp, rp != nil
}

// pathIssue finds the repository and the issue (or pull request) number a request names.
func (s *Server) pathIssue(r *http.Request) (*repo, int64, bool) {
	rp, ok := s.pathRepo(r)
	n, okN := pathInt(r, "index")
	return rp, n, ok && okN
}

var notFound = map[string]string{"message": "The target couldn't be found."}

func pathInt(r *http.Request, name string) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return n, err == nil && n > 0
}
