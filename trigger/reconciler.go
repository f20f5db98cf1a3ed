package trigger

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/forge"
)

// Objects is the part of the store the Repository reconciler reads and writes; *store.Store
// has it.
type Objects interface {
	Get(ctx context.Context, name string, into v1alpha1.Object) error
	Create(ctx context.Context, obj v1alpha1.Object) error
	Delete(ctx context.Context, kind, name string) (v1alpha1.Object, error)
	UpdateStatus(ctx context.Context, obj v1alpha1.Object) error
	RecordEvent(ctx context.Context, ref v1alpha1.ObjectReference, typ v1alpha1.EventType, reason, message string) error
}

var _ Objects = (*store.Store)(nil)

// DefaultMaxPollPages bounds the pages of comments one poll lists.
const DefaultMaxPollPages = 20

// Options configure a RepositoryReconciler.
type Options struct {
	// Objects is the store. Required.
	Objects Objects
	// SecretsDir holds the forge secrets: <SecretsDir>/<host of the forge URL>/<file>.
	// Required.
	SecretsDir string
	// TargetURL is the link of the commit statuses, with {testrun} replaced by the run's
	// name (serve's page for the run); empty posts statuses without a link.
	TargetURL string
	// HTTPClient sends the requests to forges (default: forge's).
	HTTPClient *http.Client
	// MaxPollPages bounds one poll (default DefaultMaxPollPages pages of forge.PageSize).
	MaxPollPages int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// RepositoryReconciler reconciles Repositories, one step per call: it posts what the
// Repository's runs need posted (a pending status, the verdict, the summary comment), lists
// new comments when a poll is due, and handles the pending comments (see the package doc).
// After a step that posted to the forge or changed the world it saves the status and asks to
// be called again, so that a crash never loses what was done; otherwise it asks for the next
// poll.
type RepositoryReconciler struct {
	o Options

	mu     sync.Mutex
	logins map[string]login // Repository name → the token's user, by token digest
}

// login caches the user a token acts as, so that the forge is asked once per token.
type login struct {
	digest [32]byte
	user   string
}

var _ controller.Reconciler = (*RepositoryReconciler)(nil)

// NewRepositoryReconciler returns a RepositoryReconciler with the defaults filled in.
func NewRepositoryReconciler(o Options) (*RepositoryReconciler, error) {
	if o.Objects == nil || o.SecretsDir == "" {
		return nil, errors.New("repository reconciler: objects and secrets dir are required")
	}
	if o.MaxPollPages <= 0 {
		o.MaxPollPages = DefaultMaxPollPages
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &RepositoryReconciler{o: o, logins: map[string]login{}}, nil
}

// session is one reconcile of one Repository.
type session struct {
	r    *RepositoryReconciler
	repo *v1alpha1.Repository
	fr   forge.Repo
	c    *forge.Client
	user string // the forge user the token acts as
	now  time.Time
	// teams caches team IDs by org and name for this reconcile.
	teams map[v1alpha1.TeamRef]int64
	// events are the step's events, recorded once its status is saved.
	events []event
}

// Reconcile takes the next step for the Repository req names.
func (r *RepositoryReconciler) Reconcile(ctx context.Context, req controller.Request) (controller.Result, error) {
	repo := &v1alpha1.Repository{}
	err := r.o.Objects.Get(ctx, req.Name, repo)
	if errors.Is(err, store.ErrNotFound) {
		r.mu.Lock()
		delete(r.logins, req.Name)
		r.mu.Unlock()
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, fmt.Errorf("reconcile repository %s: %w", req.Name, err)
	}
	if repo.DeletionTimestamp != nil {
		return controller.Result{}, nil
	}
	log := logr.FromContextOrDiscard(ctx).WithValues("repository", repo.Name, "forge", repo.Spec.URL, "repo", repo.Spec.Owner+"/"+repo.Spec.Repo)
	ctx = logr.NewContext(ctx, log)
	s := &session{r: r, repo: repo, fr: forge.Repo{Owner: repo.Spec.Owner, Name: repo.Spec.Repo}, now: r.o.Now(),
		teams: map[v1alpha1.TeamRef]int64{}}
	repo.Status.ObservedGeneration = repo.Generation
	if err := s.connect(ctx); err != nil {
		return s.fail(ctx, err)
	}
	for _, step := range []func(context.Context) (bool, error){s.report, s.poll, s.pending} {
		acted, err := step(ctx)
		if err != nil {
			return s.fail(ctx, err)
		}
		if acted {
			s.ready(v1alpha1.ConditionTrue, v1alpha1.ReasonForgeReachable, "the forge answered")
			return s.saved(ctx, controller.Result{Requeue: true})
		}
	}
	s.ready(v1alpha1.ConditionTrue, v1alpha1.ReasonForgeReachable, "the forge answered")
	return s.saved(ctx, controller.Result{RequeueAfter: s.nextPoll()})
}

// saved saves the status and returns res. A conflict is no failure: the webhook recorded a
// delivery meanwhile, and the step is taken again at once on the object as it is now, finding
// what it did on the forge; its events, never announced, are announced then.
func (s *session) saved(ctx context.Context, res controller.Result) (controller.Result, error) {
	err := s.save(ctx)
	if errors.Is(err, store.ErrConflict) {
		logr.FromContextOrDiscard(ctx).V(1).Info("status changed meanwhile, taking the step again")
		return controller.Result{Requeue: true}, nil
	}
	return res, err
}

// connect reads the token and learns the user it acts as.
func (s *session) connect(ctx context.Context) error {
	spec := &s.repo.Spec
	token, err := readSecret(s.r.o.SecretsDir, spec.URL, spec.TokenFile)
	if err != nil {
		return fmt.Errorf("spec.tokenFile: %w", err)
	}
	c, err := forge.New(forge.Options{URL: spec.URL, Token: forge.NewToken(string(token)), HTTPClient: s.r.o.HTTPClient})
	if err != nil {
		return fmt.Errorf("spec.url: %w", err)
	}
	s.c = c
	digest := sha256.Sum256(token)
	s.r.mu.Lock()
	cached, ok := s.r.logins[s.repo.Name]
	s.r.mu.Unlock()
	if ok && cached.digest == digest {
		s.user = cached.user
	} else {
		u, err := c.CurrentUser(ctx)
		if err != nil {
			return err
		}
		s.user = u.Login
		s.r.mu.Lock()
		s.r.logins[s.repo.Name] = login{digest: digest, user: u.Login}
		s.r.mu.Unlock()
	}
	s.repo.Status.ForgeUser = s.user
	return nil
}

// fail reports err in the Ready condition, saves the status and returns err for the
// driver's backoff: an unreadable secret or a forge that does not answer may be fixed by
// time or an operator.
func (s *session) fail(ctx context.Context, err error) (controller.Result, error) {
	reason := v1alpha1.ReasonForgeError
	if errors.Is(err, errSecret) {
		reason = v1alpha1.ReasonSecretUnreadable
	}
	s.ready(v1alpha1.ConditionFalse, reason, err.Error())
	if serr := s.save(ctx); serr != nil {
		return controller.Result{}, errors.Join(err, serr)
	}
	return controller.Result{}, fmt.Errorf("reconcile repository %s: %w", s.repo.Name, err)
}

func (s *session) ready(status metav1.ConditionStatus, reason, message string) {
	apimeta.SetStatusCondition(&s.repo.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: status,
		Reason: reason, Message: message, ObservedGeneration: s.repo.Generation, LastTransitionTime: metav1.NewTime(s.now)})
}

// save writes the Repository's status, then records the step's events: an event announces
// what the status holds, so a step whose status was not saved (and that is taken again)
// announces nothing. The store writes nothing when the status did not change.
func (s *session) save(ctx context.Context) error {
	if err := s.r.o.Objects.UpdateStatus(ctx, s.repo); err != nil {
		return fmt.Errorf("save repository %s: %w", s.repo.Name, err)
	}
	log := logr.FromContextOrDiscard(ctx)
	ref := v1alpha1.ObjectReference{Kind: v1alpha1.KindRepository, Name: s.repo.Name, UID: s.repo.UID}
	for _, e := range s.events {
		if err := s.r.o.Objects.RecordEvent(ctx, ref, e.typ, e.reason, e.message); err != nil {
			log.Error(err, "event not recorded", "reason", e.reason)
		}
		log.Info("pull request", "reason", e.reason, "message", e.message)
	}
	s.events = nil
	return nil
}

// nextPoll is how long until the next poll is due, zero when the Repository does not poll.
func (s *session) nextPoll() time.Duration {
	every := s.repo.Spec.Poll()
	if every == 0 {
		return 0
	}
	last := s.repo.Status.LastPollTime
	if last == nil {
		return time.Second
	}
	return max(last.Add(every).Sub(s.now), time.Second)
}

// event adds an event on the Repository, recorded and logged once the status is saved. An
// event is a report: a failure to record it is logged and does not undo what was done.
func (s *session) event(typ v1alpha1.EventType, reason, format string, args ...any) {
	s.events = append(s.events, event{typ: typ, reason: reason, message: fmt.Sprintf(format, args...)})
}

// event is an event of the step, for save to record.
type event struct {
	typ             v1alpha1.EventType
	reason, message string
}

// record returns the record of pull request n, adding it when missing; the oldest records
// whose runs are reported go first when the list is full.
func (s *session) record(n int64) *v1alpha1.PullRequestRecord {
	st := &s.repo.Status
	if rec := st.PullRequest(n); rec != nil {
		return rec
	}
	if len(st.PullRequests) >= v1alpha1.MaxPullRequestRecords {
		for i := range st.PullRequests {
			if reported(&st.PullRequests[i]) {
				st.PullRequests = append(st.PullRequests[:i], st.PullRequests[i+1:]...)
				break
			}
		}
	}
	st.PullRequests = append(st.PullRequests, v1alpha1.PullRequestRecord{Number: n})
	return &st.PullRequests[len(st.PullRequests)-1]
}

// alreadyHandled reports whether comment id on pull request n was handled already.
func alreadyHandled(st *v1alpha1.RepositoryStatus, n, id int64) bool {
	rec := st.PullRequest(n)
	return rec != nil && id <= rec.LastComment
}
