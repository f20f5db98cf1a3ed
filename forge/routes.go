package forge

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The types below hold only the fields swarmrun reads; each names the definition of the
// forge's API description it is a part of. contract_test.go lists every route and field.

// User is a part of the definition User.
type User struct {
	Login string `json:"login"`
}

// Comment is a part of the definition Comment: a comment on an issue or a pull request.
type Comment struct {
	ID      int64     `json:"id"`
	Body    string    `json:"body"`
	User    User      `json:"user"`
	HTMLURL string    `json:"html_url"`
	Created time.Time `json:"created_at"`
	Updated time.Time `json:"updated_at"`
	// PullRequestURL is the pull request's web URL when the comment is on one, else empty
	// (the forges fill issue_url instead).
	PullRequestURL string `json:"pull_request_url"`
}

// PullRequestNumber is the number of the pull request the comment is on, read from the end of
// its pull_request_url (…/pulls/4); zero when the comment is on an issue.
func (c Comment) PullRequestNumber() int64 {
	u := strings.TrimRight(c.PullRequestURL, "/")
	i := strings.LastIndex(u, "/pulls/")
	if i < 0 {
		return 0
	}
	n, err := strconv.ParseInt(u[i+len("/pulls/"):], 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// PullRequest is a part of the definition PullRequest.
type PullRequest struct {
	Number int64 `json:"number"`
	// State is "open" or "closed".
	State string `json:"state"`
	Head  Branch `json:"head"`
}

// Branch is a part of the definition PRBranchInfo: a pull request's head or base.
type Branch struct {
	SHA string `json:"sha"`
}

// Team is a part of the definition Team.
type Team struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// StatusState is a commit status's state (definition CommitStatusState).
type StatusState string

// Commit status states swarmrun posts.
const (
	StatusPending StatusState = "pending"
	StatusSuccess StatusState = "success"
	StatusFailure StatusState = "failure"
	StatusError   StatusState = "error"
)

// Status is the definition CreateStatusOption: a commit status to post.
type Status struct {
	Context     string      `json:"context"`
	Description string      `json:"description"`
	State       StatusState `json:"state"`
	TargetURL   string      `json:"target_url"`
}

// commentBody is the definitions CreateIssueCommentOption and EditIssueCommentOption.
type commentBody struct {
	Body string `json:"body"`
}

// CurrentUser returns the user the token acts as: GET /user (operationId userGetCurrent).
func (c *Client) CurrentUser(ctx context.Context) (User, error) {
	var u User
	_, err := c.do(ctx, http.MethodGet, path("user"), nil, nil, &u)
	return u, err
}

// PullRequest returns pull request n: GET /repos/{owner}/{repo}/pulls/{index}
// (operationId repoGetPullRequest).
func (c *Client) PullRequest(ctx context.Context, r Repo, n int64) (PullRequest, error) {
	var pr PullRequest
	_, err := c.do(ctx, http.MethodGet, path("repos", r.Owner, r.Name, "pulls", strconv.FormatInt(n, 10)), nil, nil, &pr)
	return pr, err
}

// RepoComments returns one page (1-based, PageSize comments) of the comments on the
// repository's issues and pull requests updated since since, oldest first:
// GET /repos/{owner}/{repo}/issues/comments?since=&page=&limit= (operationId
// issueGetRepoComments).
func (c *Client) RepoComments(ctx context.Context, r Repo, since time.Time, page int) ([]Comment, error) {
	q := url.Values{"page": {strconv.Itoa(page)}, "limit": {strconv.Itoa(PageSize)}}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339))
	}
	var cs []Comment
	_, err := c.do(ctx, http.MethodGet, path("repos", r.Owner, r.Name, "issues", "comments"), q, nil, &cs)
	return cs, err
}

// Comment returns comment id: GET /repos/{owner}/{repo}/issues/comments/{id} (operationId
// issueGetComment).
func (c *Client) Comment(ctx context.Context, r Repo, id int64) (Comment, error) {
	var cm Comment
	_, err := c.do(ctx, http.MethodGet, path("repos", r.Owner, r.Name, "issues", "comments", strconv.FormatInt(id, 10)), nil, nil, &cm)
	return cm, err
}

// IssueComments returns every comment on issue or pull request n: GET
// /repos/{owner}/{repo}/issues/{index}/comments (operationId issueGetComments, which the
// forges do not page).
func (c *Client) IssueComments(ctx context.Context, r Repo, n int64) ([]Comment, error) {
	var cs []Comment
	_, err := c.do(ctx, http.MethodGet, path("repos", r.Owner, r.Name, "issues", strconv.FormatInt(n, 10), "comments"), nil, nil, &cs)
	return cs, err
}

// CreateComment comments on issue or pull request n: POST
// /repos/{owner}/{repo}/issues/{index}/comments with a CreateIssueCommentOption (operationId
// issueCreateComment).
func (c *Client) CreateComment(ctx context.Context, r Repo, n int64, body string) (Comment, error) {
	var cm Comment
	_, err := c.do(ctx, http.MethodPost, path("repos", r.Owner, r.Name, "issues", strconv.FormatInt(n, 10), "comments"), nil, commentBody{Body: body}, &cm)
	return cm, err
}

// EditComment replaces the body of comment id: PATCH /repos/{owner}/{repo}/issues/comments/{id}
// with an EditIssueCommentOption (operationId issueEditComment).
func (c *Client) EditComment(ctx context.Context, r Repo, id int64, body string) (Comment, error) {
	var cm Comment
	_, err := c.do(ctx, http.MethodPatch, path("repos", r.Owner, r.Name, "issues", "comments", strconv.FormatInt(id, 10)), nil, commentBody{Body: body}, &cm)
	return cm, err
}

// CreateStatus posts a commit status on sha: POST /repos/{owner}/{repo}/statuses/{sha} with
// a CreateStatusOption (operationId repoCreateStatus). A later status of the same context
// replaces it on the forge's pages.
func (c *Client) CreateStatus(ctx context.Context, r Repo, sha string, s Status) error {
	_, err := c.do(ctx, http.MethodPost, path("repos", r.Owner, r.Name, "statuses", sha), nil, s, nil)
	return err
}

// OrgTeams returns one page (1-based, PageSize teams) of an organisation's teams: GET
// /orgs/{org}/teams?page=&limit= (operationId orgListTeams).
func (c *Client) OrgTeams(ctx context.Context, org string, page int) ([]Team, error) {
	q := url.Values{"page": {strconv.Itoa(page)}, "limit": {strconv.Itoa(PageSize)}}
	var ts []Team
	_, err := c.do(ctx, http.MethodGet, path("orgs", org, "teams"), q, nil, &ts)
	return ts, err
}

// IsTeamMember reports whether user is a member of team id: GET
// /teams/{id}/members/{username} (operationId orgListTeamMember) answers 200 for a member and
// 404 otherwise.
func (c *Client) IsTeamMember(ctx context.Context, team int64, user string) (bool, error) {
	_, err := c.do(ctx, http.MethodGet, path("teams", strconv.FormatInt(team, 10), "members", user), nil, nil, nil)
	return member(err)
}

// IsOrgMember reports whether user is a member of org: GET /orgs/{org}/members/{username}
// (operationId orgIsMember) answers 204 for a member and 404 otherwise; when the token's user
// is not a member itself, the forge redirects to the public membership, which it then
// reports.
func (c *Client) IsOrgMember(ctx context.Context, org, user string) (bool, error) {
	_, err := c.do(ctx, http.MethodGet, path("orgs", org, "members", user), nil, nil, nil)
	return member(err)
}

func member(err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}
