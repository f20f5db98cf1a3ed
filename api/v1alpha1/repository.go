package v1alpha1

import "time"

// ForgeKind names the API a Repository's forge speaks.
type ForgeKind string

// Forge kinds. Forgejo is a fork of Gitea and keeps its API, so both are served by one
// client.
const (
	ForgeForgejo ForgeKind = "forgejo"
	ForgeGitea   ForgeKind = "gitea"
)

// ForgeKinds returns the forge kinds swarmrun speaks, as a new slice.
func ForgeKinds() []ForgeKind { return []ForgeKind{ForgeForgejo, ForgeGitea} }

// Known reports whether k is a forge kind swarmrun speaks.
func (k ForgeKind) Known() bool { return k == ForgeForgejo || k == ForgeGitea }

// DefaultTriggerPhrase is what a comment on a pull request says to ask for a run when the
// Repository does not say otherwise.
const DefaultTriggerPhrase = "!testme"

// Repository maps a repository on a forge to the Recipe it holds: an authorised comment
// with the trigger phrase on one of its pull requests starts a TestRun of the pull request's
// head, and the verdict goes back to the pull request as a commit status and one summary
// comment.
type Repository struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       RepositorySpec   `json:"spec"`
	Status     RepositoryStatus `json:"status,omitzero"`
}

// RepositorySpec is the desired state of a Repository.
type RepositorySpec struct {
	// Forge is the forge's kind: forgejo or gitea.
	Forge ForgeKind `json:"forge"`
	// URL is the forge's root URL, such as https://codeberg.org; its API is under /api/v1.
	// It is https, except on a loopback host.
	URL string `json:"url"`
	// Owner and Repo name the repository on the forge (owner/repo).
	Owner string `json:"owner"`
	Repo  string `json:"repo"`
	// Recipe is the name of the Recipe the repository holds: the runs test it.
	Recipe string `json:"recipe"`
	// TokenFile names the file that holds the forge token swarmrun acts with, relative to
	// the forge secrets directory of serve for the URL's host (see the README): the token is
	// never written into the object, and a token kept for one forge is never sent to another.
	TokenFile string `json:"tokenFile"`
	// WebhookSecretFile names the file that holds the webhook's secret, as TokenFile does.
	// Without it, the webhook endpoint refuses every delivery and only polling sees comments.
	WebhookSecretFile string `json:"webhookSecretFile,omitempty"`
	// Trigger says who may ask for a run and how.
	Trigger RepositoryTrigger `json:"trigger"`
	// PollInterval is how often the open pull requests' new comments are listed; zero or
	// unset means webhook deliveries only.
	PollInterval *Duration `json:"pollInterval,omitempty"`
	// Template is what every TestRun the repository starts asks for; its recipe and head
	// come from the Repository and the pull request.
	Template TestRunTemplate `json:"template,omitzero"`
}

// RepositoryTrigger says who may ask for a run, and with which words.
type RepositoryTrigger struct {
	// Phrase starts a line of a comment that asks for a run (default !testme).
	Phrase string `json:"phrase,omitempty"`
	// Users are forge logins that may ask, compared without regard to case.
	Users []string `json:"users,omitempty"`
	// Teams are forge teams (or, without a team, whole organisations) whose members may
	// ask, as the forge's membership API says at the time of the comment.
	Teams []TeamRef `json:"teams,omitempty"`
}

// TeamRef names a team of an organisation on the forge; an empty Team means every member
// of Org.
type TeamRef struct {
	Org  string `json:"org"`
	Team string `json:"team,omitempty"`
}

// TestRunTemplate is the part of a TestRun's spec that a Repository fixes for every run it
// starts.
type TestRunTemplate struct {
	Stages      []Stage           `json:"stages,omitempty"`
	UpgradeBase string            `json:"upgradeBase,omitempty"`
	Base        *BaseSource       `json:"base,omitempty"`
	Env         map[string]string `json:"env,omitempty"`
	Teardown    TeardownPolicy    `json:"teardown,omitempty"`
	Timeout     *Duration         `json:"timeout,omitempty"`
}

// Default fills the defaults of a Repository's spec.
func (r *Repository) Default() {
	r.APIVersion, r.Kind = APIVersion, KindRepository
	if r.Spec.Trigger.Phrase == "" {
		r.Spec.Trigger.Phrase = DefaultTriggerPhrase
	}
}

// Poll returns how often the repository's comments are listed; zero means never.
func (s *RepositorySpec) Poll() time.Duration {
	if s.PollInterval == nil || s.PollInterval.Duration < 0 {
		return 0
	}
	return s.PollInterval.Duration
}

// Bounds of a Repository's status lists: the status is one stored object, so what it
// remembers is bounded; the oldest entries go first.
const (
	// MaxDeliveries is how many webhook delivery IDs are remembered to refuse replays.
	MaxDeliveries = 256
	// MaxPendingComments is how many announced comments may wait to be handled.
	MaxPendingComments = 64
	// MaxPullRequestRecords is how many pull requests are remembered.
	MaxPullRequestRecords = 256
)

// Values of PullRequestRecord.Reported: the commit status state last posted for the run.
const (
	StatePending = "pending"
	StateSuccess = "success"
	StateFailure = "failure"
	StateError   = "error"
)

// RepositoryStatus is the observed state of a Repository: what the webhook and the poller
// announced, and what was started and posted for each pull request.
type RepositoryStatus struct {
	ObservedGeneration int64       `json:"observedGeneration,omitempty"`
	Conditions         []Condition `json:"conditions,omitempty"`
	// ForgeUser is the login the token acts as on the forge: its own comments never ask for
	// a run, and only its comments are edited.
	ForgeUser string `json:"forgeUser,omitempty"`
	// Deliveries are the IDs of the webhook deliveries accepted, oldest first, so that a
	// replayed delivery is acknowledged and ignored.
	Deliveries []string `json:"deliveries,omitempty"`
	// Pending are the comments announced by the webhook or the poller and not yet handled,
	// oldest first.
	Pending []PendingComment `json:"pending,omitempty"`
	// PollCursor is the update time of the newest comment the poller has listed; the next
	// poll lists comments updated since then.
	PollCursor *Time `json:"pollCursor,omitempty"`
	// LastPollTime is when the poller last listed comments.
	LastPollTime *Time `json:"lastPollTime,omitempty"`
	// PullRequests are what was done for each pull request, by number.
	PullRequests []PullRequestRecord `json:"pullRequests,omitempty"`
}

// PendingComment is a comment on a pull request that may ask for a run.
type PendingComment struct {
	ID          int64 `json:"id"`
	PullRequest int64 `json:"pullRequest"`
}

// PullRequestRecord is what swarmrun started and posted for one pull request.
type PullRequestRecord struct {
	Number int64 `json:"number"`
	// LastComment is the newest comment handled for the pull request: a comment at or
	// before it is never handled again, however it is announced.
	LastComment int64 `json:"lastComment,omitempty"`
	// TestRun and TestRunUID name the pull request's current run; Comment is the comment
	// that asked for it, User its author and Head the commit it tests.
	TestRun    string `json:"testRun,omitempty"`
	TestRunUID string `json:"testRunUID,omitempty"`
	Comment    int64  `json:"comment,omitempty"`
	User       string `json:"user,omitempty"`
	Head       string `json:"head,omitempty"`
	// Reported is the commit status state last posted for the current run (pending,
	// success, failure, error).
	Reported string `json:"reported,omitempty"`
	// SummaryComment is the ID of the current run's summary comment, once posted.
	SummaryComment int64 `json:"summaryComment,omitempty"`
	// RefusalComment is the ID of the one comment that told an unauthorised commenter no.
	RefusalComment int64 `json:"refusalComment,omitempty"`
}

// PullRequest returns the record of pull request n, or nil.
func (s *RepositoryStatus) PullRequest(n int64) *PullRequestRecord {
	for i := range s.PullRequests {
		if s.PullRequests[i].Number == n {
			return &s.PullRequests[i]
		}
	}
	return nil
}

// RepositoryList is a list of Repositories.
type RepositoryList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata"`
	Items    []Repository `json:"items"`
}
