package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/forge"
)

// WebhookPath is where serve takes a Repository's webhook deliveries:
// POST /hooks/forge/<repository>.
const WebhookPath = "/hooks/forge/"

// DefaultMaxWebhookBytes bounds a delivery's body.
const DefaultMaxWebhookBytes = 1 << 20

// conflictRetries bounds the reads and writes of the Repository's status when a controller's
// write lands in between.
const conflictRetries = 5

// WebhookStore is the part of the store the webhook reads and writes; *store.Store has it.
type WebhookStore interface {
	Get(ctx context.Context, name string, into v1alpha1.Object) error
	UpdateStatus(ctx context.Context, obj v1alpha1.Object) error
}

// WebhookOptions configure the webhook endpoint.
type WebhookOptions struct {
	// Objects is the store. Required.
	Objects WebhookStore
	// SecretsDir holds the webhook secrets, as Options.SecretsDir. Required.
	SecretsDir string
	// MaxBodyBytes bounds a delivery (default DefaultMaxWebhookBytes).
	MaxBodyBytes int64
	// Observer, when set, is told of every delivery, once.
	Observer WebhookObserver
}

// WebhookObserver is told of every delivery the endpoint answered, for metrics: event is the
// verified event type (issue_comment, pull_request, ...) or "unknown" when the delivery was
// not verified (its headers are the sender's word), and result says how it was answered:
// accepted, unauthorized, invalid or error.
type WebhookObserver interface {
	WebhookDelivered(event, result string)
}

// Webhook returns the handler of POST /hooks/forge/<repository>. It needs no bearer token: a
// delivery is authenticated by its signature, the HMAC-SHA256 of the body under the
// Repository's webhook secret, checked before the body is parsed. A delivery that fails it is
// answered 401 and changes nothing. A verified delivery's ID is recorded in the Repository's
// status, so that a replay is acknowledged and ignored; a comment on a pull request that asks
// for a run is recorded as pending, and the Repository controller, woken by the change, does
// the rest (the webhook calls no forge). A pull request's closing drops its pending comments.
func Webhook(o WebhookOptions) (http.Handler, error) {
	if o.Objects == nil || o.SecretsDir == "" {
		return nil, errors.New("webhook: objects and secrets dir are required")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxWebhookBytes
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+WebhookPath+"{repository}", o.serve)
	mux.HandleFunc(WebhookPath, func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusNotFound, "deliveries go to POST "+WebhookPath+"<repository>")
	})
	return mux, nil
}

// answered remembers the status code a delivery was answered with.
type answered struct {
	http.ResponseWriter
	code int
}

func (a *answered) WriteHeader(code int) {
	a.code = code
	a.ResponseWriter.WriteHeader(code)
}

// result names the answer for the metrics: accepted, unauthorized, invalid or error.
func (a *answered) result() string {
	switch {
	case a.code < 300:
		return "accepted"
	case a.code == http.StatusUnauthorized:
		return "unauthorized"
	case a.code < 500:
		return "invalid"
	}
	return "error"
}

func answer(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (o WebhookOptions) serve(rw http.ResponseWriter, r *http.Request) {
	w := &answered{ResponseWriter: rw}
	event := "unknown"
	if o.Observer != nil {
		defer func() { o.Observer.WebhookDelivered(event, w.result()) }()
	}
	ctx := r.Context()
	name := r.PathValue("repository")
	log := logr.FromContextOrDiscard(ctx).WithValues("repository", name)
	if r.ContentLength > o.MaxBodyBytes {
		answer(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("delivery of %d bytes is over %d", r.ContentLength, o.MaxBodyBytes))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, o.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		answer(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("delivery over %d bytes", o.MaxBodyBytes))
		return
	case err != nil:
		answer(w, http.StatusBadRequest, "delivery not read")
		return
	}
	repo := &v1alpha1.Repository{}
	err = o.Objects.Get(ctx, name, repo)
	if errors.Is(err, store.ErrNotFound) {
		answer(w, http.StatusNotFound, fmt.Sprintf("no repository %q", name))
		return
	}
	if err != nil {
		log.Error(err, "webhook delivery: repository not read")
		answer(w, http.StatusInternalServerError, "repository not read")
		return
	}
	if repo.Spec.WebhookSecretFile == "" {
		log.V(1).Info("webhook delivery refused: the repository has no webhookSecretFile")
		answer(w, http.StatusUnauthorized, forge.ErrSignature.Error())
		return
	}
	secret, err := readSecret(o.SecretsDir, repo.Spec.URL, repo.Spec.WebhookSecretFile)
	if err != nil {
		log.Error(err, "webhook delivery refused: spec.webhookSecretFile unreadable")
		answer(w, http.StatusInternalServerError, "the webhook secret cannot be read; see serve's log")
		return
	}
	d, err := forge.Verify(r.Header, body, secret)
	if errors.Is(err, forge.ErrSignature) {
		log.V(1).Info("webhook delivery refused: signature missing or wrong")
		answer(w, http.StatusUnauthorized, forge.ErrSignature.Error())
		return
	}
	if err != nil {
		answer(w, http.StatusBadRequest, err.Error())
		return
	}
	event = string(d.Event)
	change, err := o.change(repo, d)
	if err != nil {
		answer(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	code, msg, err := o.record(ctx, name, d.ID, change)
	if err != nil {
		log.Error(err, "webhook delivery not recorded", "delivery", d.ID)
		answer(w, http.StatusInternalServerError, "delivery not recorded")
		return
	}
	log.V(1).Info("webhook delivery", "delivery", d.ID, "event", d.Event, "code", code, "result", msg)
	answer(w, code, msg)
}

// change turns a verified delivery into what it does to a Repository's status, after
// checking that it is about the Repository's forge repository.
func (o WebhookOptions) change(repo *v1alpha1.Repository, d forge.Delivery) (func(*v1alpha1.RepositoryStatus) (bool, string), error) {
	want := repo.Spec.Owner + "/" + repo.Spec.Repo
	about := func(fullName string) error {
		if !strings.EqualFold(fullName, want) {
			return fmt.Errorf("delivery %s is about repository %q, not %s", d.ID, fullName, want)
		}
		return nil
	}
	switch d.Event {
	case forge.EventIssueComment:
		e, err := forge.ParseIssueComment(d)
		if err != nil {
			return nil, err
		}
		if err := about(e.Repository.FullName); err != nil {
			return nil, err
		}
		if e.Action != "created" || !e.OnPullRequest() || !Asks(e.Comment.Body, repo.Spec.Trigger.Phrase) {
			return nil, nil
		}
		p := v1alpha1.PendingComment{ID: e.Comment.ID, PullRequest: e.Issue.Number}
		return func(st *v1alpha1.RepositoryStatus) (bool, string) {
			if alreadyHandled(st, p.PullRequest, p.ID) {
				return true, "comment already handled"
			}
			if !enqueue(st, p) {
				return false, "too many comments pending; the poller will find it"
			}
			return true, fmt.Sprintf("comment %d on pull request #%d is pending", p.ID, p.PullRequest)
		}, nil
	case forge.EventPullRequest:
		e, err := forge.ParsePullRequest(d)
		if err != nil {
			return nil, err
		}
		if err := about(e.Repository.FullName); err != nil {
			return nil, err
		}
		if e.Action != "closed" {
			return nil, nil
		}
		return func(st *v1alpha1.RepositoryStatus) (bool, string) {
			st.Pending = slices.DeleteFunc(st.Pending, func(p v1alpha1.PendingComment) bool { return p.PullRequest == e.Number })
			return true, fmt.Sprintf("pull request #%d closed: its pending comments dropped", e.Number)
		}, nil
	}
	return nil, nil
}

// record records delivery id and applies change (nil: nothing but the ID) to the
// Repository's status, reading it again when a controller wrote it meanwhile. It returns the
// answer for the forge.
func (o WebhookOptions) record(ctx context.Context, name, id string, change func(*v1alpha1.RepositoryStatus) (bool, string)) (int, string, error) {
	var err error
	for range conflictRetries {
		repo := &v1alpha1.Repository{}
		if err = o.Objects.Get(ctx, name, repo); err != nil {
			return 0, "", err
		}
		st := &repo.Status
		if slices.Contains(st.Deliveries, id) {
			return http.StatusOK, fmt.Sprintf("delivery %s was received before: ignored", id), nil
		}
		msg := "accepted: nothing to do"
		if change != nil {
			ok, m := change(st)
			if !ok {
				return http.StatusServiceUnavailable, m, nil
			}
			msg = m
		}
		st.Deliveries = append(st.Deliveries, id)
		if over := len(st.Deliveries) - v1alpha1.MaxDeliveries; over > 0 {
			st.Deliveries = slices.Delete(st.Deliveries, 0, over)
		}
		err = o.Objects.UpdateStatus(ctx, repo)
		if err == nil {
			return http.StatusAccepted, msg, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return 0, "", err
		}
	}
	return 0, "", err
}
