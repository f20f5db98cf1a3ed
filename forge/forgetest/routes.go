package forgetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/forge"
)

// Each handler serves one route of the forges' API description (templates/swagger/v1_json.tmpl
// in go-gitea/gitea), named in its comment by the route's operationId, and answers as the
// forges do: the status codes and the definitions' fields that description gives.

// currentUser: userGetCurrent.
func (s *Server) currentUser(_ http.ResponseWriter, _ *http.Request, login string) (int, any) {
	return http.StatusOK, userWire(login)
}

// getPull: repoGetPullRequest.
func (s *Server) getPull(_ http.ResponseWriter, r *http.Request, _ string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, n, ok := s.pathIssue(r)
	if !ok || rp.pulls[n] == nil {
		return http.StatusNotFound, notFound
	}
	p := rp.pulls[n]
	head := map[string]any{"label": fmt.Sprintf("pr-%d", n), "ref": fmt.Sprintf("refs/pull/%d/head", n), "sha": p.head, "repo_id": 1}
	return http.StatusOK, map[string]any{
		"id": n, "number": n, "state": p.state, "title": fmt.Sprintf("pull request %d", n),
		"html_url": fmt.Sprintf("%s/%s/%s/pulls/%d", s.srv.URL, rp.owner, rp.name, n),
		"head":     head, "base": map[string]any{"label": "main", "ref": "main", "sha": "0000000000000000000000000000000000000000", "repo_id": 1},
		"merged": false, "user": userWire("author"),
	}
}

// page reads page (1-based) and limit as the forges do: limit defaults to 30 and is capped at
// 50 ([api] DEFAULT_PAGING_NUM and MAX_RESPONSE_ITEMS).
func page(r *http.Request) (first, limit int) {
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	l, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if p < 1 {
		p = 1
	}
	if l < 1 {
		l = 30
	}
	l = min(l, 50)
	return (p - 1) * l, l
}

func paged[T any](items []T, first, limit int) []T {
	if first >= len(items) {
		return []T{}
	}
	return items[first:min(first+limit, len(items))]
}

// repoComments: issueGetRepoComments, with since (updated at or after) and paging, oldest
// first.
func (s *Server) repoComments(_ http.ResponseWriter, r *http.Request, _ string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, ok := s.pathRepo(r)
	if !ok {
		return http.StatusNotFound, notFound
	}
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return http.StatusUnprocessableEntity, map[string]string{"message": "since: " + err.Error()}
		}
		since = t
	}
	var out []map[string]any
	for _, c := range rp.comments {
		if !c.updated.Before(since) {
			out = append(out, s.wire(rp, c))
		}
	}
	first, limit := page(r)
	return http.StatusOK, paged(out, first, limit)
}

func (s *Server) findComment(r *http.Request) (*repo, *comment, bool) {
	rp, ok := s.pathRepo(r)
	id, okID := pathInt(r, "id")
	if !ok || !okID {
		return nil, nil, false
	}
	for _, c := range rp.comments {
		if c.id == id {
			return rp, c, true
		}
	}
	return nil, nil, false
}

// getComment: issueGetComment.
func (s *Server) getComment(_ http.ResponseWriter, r *http.Request, _ string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, c, ok := s.findComment(r)
	if !ok {
		return http.StatusNotFound, notFound
	}
	return http.StatusOK, s.wire(rp, c)
}

// decodeBody reads a CreateIssueCommentOption or EditIssueCommentOption strictly.
func decodeBody(r *http.Request, into any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	return dec.Decode(into)
}

// editComment: issueEditComment; only the comment's author may edit it.
func (s *Server) editComment(_ http.ResponseWriter, r *http.Request, login string) (int, any) {
	var in struct {
		Body string `json:"body"`
	}
	if err := decodeBody(r, &in); err != nil {
		return http.StatusUnprocessableEntity, map[string]string{"message": err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, c, ok := s.findComment(r)
	switch {
	case !ok:
		return http.StatusNotFound, notFound
	case !strings.EqualFold(c.user, login):
		return http.StatusForbidden, map[string]string{"message": "only the poster may edit a comment"}
	}
	c.body, c.updated = in.Body, s.stamp()
	return http.StatusOK, s.wire(rp, c)
}

// issueComments: issueGetComments, every comment of the issue, oldest first.
func (s *Server) issueComments(_ http.ResponseWriter, r *http.Request, _ string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, n, ok := s.pathIssue(r)
	if !ok {
		return http.StatusNotFound, notFound
	}
	out := []map[string]any{}
	for _, c := range rp.comments {
		if c.issue == n {
			out = append(out, s.wire(rp, c))
		}
	}
	return http.StatusOK, out
}

// createComment: issueCreateComment.
func (s *Server) createComment(_ http.ResponseWriter, r *http.Request, login string) (int, any) {
	var in struct {
		Body string `json:"body"`
	}
	if err := decodeBody(r, &in); err != nil || in.Body == "" {
		return http.StatusUnprocessableEntity, map[string]string{"message": "body is required"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, n, ok := s.pathIssue(r)
	if !ok {
		return http.StatusNotFound, notFound
	}
	return http.StatusCreated, s.wire(rp, s.addComment(rp, n, login, in.Body))
}

// createStatus: repoCreateStatus with a CreateStatusOption; state must be one of the
// CommitStatusState values.
func (s *Server) createStatus(_ http.ResponseWriter, r *http.Request, login string) (int, any) {
	var in forge.Status
	if err := decodeBody(r, &in); err != nil {
		return http.StatusUnprocessableEntity, map[string]string{"message": err.Error()}
	}
	if !slices.Contains([]string{"pending", "success", "error", "failure", "warning"}, string(in.State)) {
		return http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("invalid state %q", in.State)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, ok := s.pathRepo(r)
	if !ok {
		return http.StatusNotFound, notFound
	}
	sha := r.PathValue("sha")
	rp.statuses[sha] = append(rp.statuses[sha], StatusRecord{Status: in, Creator: login})
	return http.StatusCreated, map[string]any{"id": len(rp.statuses[sha]), "status": in.State, "context": in.Context,
		"description": in.Description, "target_url": in.TargetURL, "creator": userWire(login)}
}

var mustBeMember = map[string]string{"message": "Must be an organization member"}

func isMember(o *org, login string) bool {
	_, ok := o.members[strings.ToLower(login)]
	return ok
}

// pathOrg finds the organisation a request names; when membersOnly, only its members may ask.
// A nil org comes with the answer to give.
func (s *Server) pathOrg(r *http.Request, login string, membersOnly bool) (*org, int, any) {
	o := s.orgs[strings.ToLower(r.PathValue("org"))]
	switch {
	case o == nil:
		return nil, http.StatusNotFound, notFound
	case membersOnly && !isMember(o, login):
		return nil, http.StatusForbidden, mustBeMember
	}
	return o, 0, nil
}

// orgTeams: orgListTeams; only members of the organisation may list its teams.
func (s *Server) orgTeams(_ http.ResponseWriter, r *http.Request, login string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, code, body := s.pathOrg(r, login, true)
	if o == nil {
		return code, body
	}
	var out []map[string]any
	for _, t := range o.teams {
		out = append(out, map[string]any{"id": t.id, "name": t.name, "description": "", "permission": "read",
			"includes_all_repositories": false, "organization": map[string]any{"username": o.name}})
	}
	first, limit := page(r)
	return http.StatusOK, paged(out, first, limit)
}

// orgIsMember: orgIsMember. A member of the organisation learns about any user (204 or 404);
// anyone else is redirected to the public membership (303).
func (s *Server) orgIsMember(w http.ResponseWriter, r *http.Request, login string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, code, body := s.pathOrg(r, login, false)
	if o == nil {
		return code, body
	}
	if !isMember(o, login) {
		w.Header().Set("Location", fmt.Sprintf("%s%s/orgs/%s/public_members/%s", s.srv.URL, forge.APIPath, r.PathValue("org"), r.PathValue("username")))
		return http.StatusSeeOther, nil
	}
	if isMember(o, r.PathValue("username")) {
		return http.StatusNoContent, nil
	}
	return http.StatusNotFound, nil
}

// orgIsPublicMember: orgIsPublicMember.
func (s *Server) orgIsPublicMember(_ http.ResponseWriter, r *http.Request, _ string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, code, body := s.pathOrg(r, "", false)
	if o == nil {
		return code, body
	}
	if public := o.members[strings.ToLower(r.PathValue("username"))]; public {
		return http.StatusNoContent, nil
	}
	return http.StatusNotFound, nil
}

// teamMember: orgListTeamMember; only members of the team's organisation may ask.
func (s *Server) teamMember(_ http.ResponseWriter, r *http.Request, login string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := pathInt(r, "id")
	t := s.teams[id]
	if !ok || t == nil {
		return http.StatusNotFound, notFound
	}
	if !isMember(t.org, login) {
		return http.StatusForbidden, mustBeMember
	}
	user := r.PathValue("username")
	if !t.members[strings.ToLower(user)] {
		return http.StatusNotFound, notFound
	}
	return http.StatusOK, userWire(user)
}

// IssueCommentPayload is the body of the issue_comment delivery a forge sends when comment
// c was made (action created) on r (modules/structs/hook.go IssueCommentPayload).
func (s *Server) IssueCommentPayload(r forge.Repo, c forge.Comment, action string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repo(r)
	var n int64
	var cm *comment
	for _, x := range rp.comments {
		if x.id == c.ID {
			n, cm = x.issue, x
		}
	}
	if cm == nil {
		panic(fmt.Sprintf("forgetest: no comment %d in %s", c.ID, r))
	}
	issue := map[string]any{"id": n, "number": n, "title": fmt.Sprintf("issue %d", n), "state": "open", "user": userWire("author")}
	if cm.onPull {
		issue["pull_request"] = map[string]any{"merged": false, "merged_at": nil}
	}
	b, _ := json.Marshal(map[string]any{
		"action": action, "issue": issue, "comment": s.wire(rp, cm), "is_pull": cm.onPull,
		"repository": repoWire(rp), "sender": userWire(cm.user),
	})
	return b
}

// PullRequestPayload is the body of the pull_request delivery a forge sends when pull request
// n of r changed (action opened, closed, synchronized, ...).
func (s *Server) PullRequestPayload(r forge.Repo, n int64, action string) []byte {
	s.mu.Lock()
	rp := s.repo(r)
	p := rp.pulls[n]
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{
		"action": action, "number": n,
		"pull_request": map[string]any{"id": n, "number": n, "state": p.state, "head": map[string]any{"sha": p.head}},
		"repository":   repoWire(rp), "sender": userWire("author"),
	})
	return b
}

func repoWire(rp *repo) map[string]any {
	return map[string]any{"id": 1, "name": rp.name, "full_name": rp.owner + "/" + rp.name, "owner": userWire(rp.owner)}
}

// Deliver posts a webhook delivery to url as Forgejo does (see Post) and returns the answer's
// status code and body; an error fails the test.
func Deliver(t testing.TB, url, secret, event, id string, body []byte) (int, string) {
	t.Helper()
	code, answer, err := Post(t.Context(), url, secret, event, id, body)
	if err != nil {
		t.Fatal(err)
	}
	return code, answer
}

// Post posts a webhook delivery to url as Forgejo does: the body signed with secret
// (X-Forgejo-Signature and X-Gitea-Signature, hex HMAC-SHA256), the delivery's ID and event in
// X-Forgejo-Delivery/X-Gitea-Delivery and X-Forgejo-Event/X-Gitea-Event. It returns the
// answer's status code and body.
func Post(ctx context.Context, url, secret, event, id string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	sig := forge.Sign(body, []byte(secret))
	for k, v := range map[string]string{
		"Content-Type":               "application/json",
		forge.HeaderForgejoSignature: sig, forge.HeaderGiteaSignature: sig,
		forge.HeaderForgejoDelivery: id, forge.HeaderGiteaDelivery: id,
		forge.HeaderForgejoEvent: event, forge.HeaderGiteaEvent: event,
	} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(resp.Body, 1<<20)); err != nil {
		return 0, "", err
	}
	return resp.StatusCode, b.String(), nil
}
