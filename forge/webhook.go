package forge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Headers of a webhook delivery. Forgejo sends both its own and Gitea's; Gitea only its own.
// The signature is the hex HMAC-SHA256 of the body under the hook's secret.
const (
	HeaderForgejoSignature = "X-Forgejo-Signature"
	HeaderGiteaSignature   = "X-Gitea-Signature"
	HeaderForgejoDelivery  = "X-Forgejo-Delivery"
	HeaderGiteaDelivery    = "X-Gitea-Delivery"
	HeaderForgejoEvent     = "X-Forgejo-Event"
	HeaderGiteaEvent       = "X-Gitea-Event"
)

// Webhook events swarmrun reads. A comment on a pull request is an issue_comment, as on an
// issue (the forges' X-Gitea-Event-Type says pull_request_comment).
const (
	EventIssueComment = "issue_comment"
	EventPullRequest  = "pull_request"
)

// ErrSignature is a delivery whose signature is missing or does not match the secret.
var ErrSignature = errors.New("webhook signature missing or wrong")

// Delivery is a webhook request whose signature was verified.
type Delivery struct {
	// ID is the delivery's UUID, the same when the forge sends it again.
	ID string
	// Event is the event's name (issue_comment, pull_request, ...).
	Event string
	// Body is the payload, exactly as signed.
	Body []byte
}

// Verify checks a delivery's signature over body with secret, in constant time, before
// anything reads the body: X-Forgejo-Signature when present (a bad one is not rescued by a
// good X-Gitea-Signature), else X-Gitea-Signature. An empty secret verifies nothing. It
// returns the delivery with its ID and event; a delivery without an ID is refused, since a
// replay could not be told apart.
func Verify(h http.Header, body, secret []byte) (Delivery, error) {
	if len(secret) == 0 {
		return Delivery{}, fmt.Errorf("%w: no secret to verify with", ErrSignature)
	}
	sig := h.Get(HeaderForgejoSignature)
	if sig == "" {
		sig = h.Get(HeaderGiteaSignature)
	}
	got, err := hex.DecodeString(sig)
	if sig == "" || err != nil {
		return Delivery{}, ErrSignature
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return Delivery{}, ErrSignature
	}
	d := Delivery{ID: first(h, HeaderForgejoDelivery, HeaderGiteaDelivery), Event: first(h, HeaderForgejoEvent, HeaderGiteaEvent), Body: body}
	if d.ID == "" {
		return Delivery{}, fmt.Errorf("webhook delivery without %s or %s", HeaderForgejoDelivery, HeaderGiteaDelivery)
	}
	if len(d.ID) > 128 {
		return Delivery{}, fmt.Errorf("webhook delivery ID of %d bytes, at most 128", len(d.ID))
	}
	return d, nil
}

// Sign returns the signature header value of body under secret, as the forge computes it.
func Sign(body, secret []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func first(h http.Header, keys ...string) string {
	for _, k := range keys {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// HookRepository is the part of a payload's repository swarmrun reads.
type HookRepository struct {
	// FullName is owner/name.
	FullName string `json:"full_name"`
}

// HookIssue is the part of an issue_comment payload's issue swarmrun reads.
type HookIssue struct {
	Number int64 `json:"number"`
	// PullRequest is set when the issue is a pull request.
	PullRequest *struct{} `json:"pull_request"`
}

// IssueCommentEvent is the part of an issue_comment payload (IssueCommentPayload in the
// forges' modules/structs/hook.go) swarmrun reads.
type IssueCommentEvent struct {
	// Action is created, edited or deleted.
	Action     string         `json:"action"`
	Issue      HookIssue      `json:"issue"`
	Comment    Comment        `json:"comment"`
	Repository HookRepository `json:"repository"`
	IsPull     bool           `json:"is_pull"`
}

// OnPullRequest reports whether the comment is on a pull request.
func (e IssueCommentEvent) OnPullRequest() bool { return e.IsPull || e.Issue.PullRequest != nil }

// PullRequestEvent is the part of a pull_request payload (PullRequestPayload) swarmrun reads.
type PullRequestEvent struct {
	// Action is opened, closed, reopened, synchronized, edited, ...
	Action      string         `json:"action"`
	Number      int64          `json:"number"`
	PullRequest PullRequest    `json:"pull_request"`
	Repository  HookRepository `json:"repository"`
}

// ParseIssueComment decodes a verified issue_comment delivery.
func ParseIssueComment(d Delivery) (IssueCommentEvent, error) {
	var e IssueCommentEvent
	if d.Event != EventIssueComment {
		return e, fmt.Errorf("delivery %s is a %q event, not %s", d.ID, d.Event, EventIssueComment)
	}
	if err := json.Unmarshal(d.Body, &e); err != nil {
		return e, fmt.Errorf("delivery %s: decode %s payload: %w", d.ID, d.Event, err)
	}
	if e.Issue.Number <= 0 || e.Comment.ID <= 0 {
		return e, fmt.Errorf("delivery %s: %s payload without issue.number or comment.id", d.ID, d.Event)
	}
	return e, nil
}

// ParsePullRequest decodes a verified pull_request delivery.
func ParsePullRequest(d Delivery) (PullRequestEvent, error) {
	var e PullRequestEvent
	if d.Event != EventPullRequest {
		return e, fmt.Errorf("delivery %s is a %q event, not %s", d.ID, d.Event, EventPullRequest)
	}
	if err := json.Unmarshal(d.Body, &e); err != nil {
		return e, fmt.Errorf("delivery %s: decode %s payload: %w", d.ID, d.Event, err)
	}
	if e.Number <= 0 {
		e.Number = e.PullRequest.Number
	}
	if e.Number <= 0 {
		return e, fmt.Errorf("delivery %s: %s payload without number", d.ID, d.Event)
	}
	return e, nil
}
