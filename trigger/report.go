package trigger

import (
	"context"
	"errors"
	"fmt"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/forge"
)

// report posts the next thing one of the Repository's runs needs posted: the pending
// status of a run that started, the verdict of one that finished, then its summary comment.
// It posts one thing per call and reports whether it did.
func (s *session) report(ctx context.Context) (bool, error) {
	for i := range s.repo.Status.PullRequests {
		rec := &s.repo.Status.PullRequests[i]
		if reported(rec) {
			continue
		}
		tr, err := s.run(ctx, rec)
		if err != nil {
			return false, err
		}
		state := ""
		if tr != nil {
			state = verdict(tr)
		}
		switch {
		case tr == nil && !finalState(rec.Reported):
			// Deleted before it finished (by hand): the pull request must not show it pending
			// for ever.
			err := s.status(ctx, rec, forge.StatusError, description("TestRun %s was deleted before it finished", rec.TestRun))
			return err == nil, err
		case tr == nil:
			err := s.summary(ctx, rec, nil)
			return err == nil, err
		case state == "" && rec.Reported == "":
			err := s.status(ctx, rec, forge.StatusPending, description("TestRun %s is running", tr.Name))
			return err == nil, err
		case state == "":
			continue
		case rec.Reported != state:
			err := s.status(ctx, rec, forge.StatusState(state), description("level %d/%d: %s", tr.Status.Level, v1alpha1.MaxLevel, reason(tr)))
			return err == nil, err
		default:
			err := s.summary(ctx, rec, tr)
			return err == nil, err
		}
	}
	return false, nil
}

// run returns the record's TestRun, or nil when it is gone: deleted, or replaced by an
// object of the same name that is not the one the record names.
func (s *session) run(ctx context.Context, rec *v1alpha1.PullRequestRecord) (*v1alpha1.TestRun, error) {
	tr := &v1alpha1.TestRun{}
	err := s.r.o.Objects.Get(ctx, rec.TestRun, tr)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("pull request #%d: %w", rec.Number, err)
	case tr.UID != rec.TestRunUID:
		return nil, nil
	}
	return tr, nil
}

func reason(tr *v1alpha1.TestRun) string {
	for _, c := range tr.Status.Conditions {
		if c.Type == v1alpha1.ConditionSucceeded {
			return c.Reason
		}
	}
	return ""
}

// status posts a commit status on the record's head and records it.
func (s *session) status(ctx context.Context, rec *v1alpha1.PullRequestRecord, state forge.StatusState, desc string) error {
	st := forge.Status{Context: statusContext(s.repo.Spec.Recipe), Description: desc, State: state, TargetURL: targetURL(s.r.o.TargetURL, rec.TestRun)}
	if err := s.c.CreateStatus(ctx, s.fr, rec.Head, st); err != nil {
		return fmt.Errorf("pull request #%d: commit status %s: %w", rec.Number, state, err)
	}
	rec.Reported = string(state)
	return nil
}

// summary posts the summary comment of the record's finished run, or edits the one a
// crashed attempt posted (found by its marker), and records it. tr is nil when the run is
// gone: the comment then says only what the record knows.
func (s *session) summary(ctx context.Context, rec *v1alpha1.PullRequestRecord, tr *v1alpha1.TestRun) error {
	body, marker := goneBody(rec), goneMarker(rec)
	if tr != nil {
		body, marker = summaryBody(tr, rec, targetURL(s.r.o.TargetURL, tr.Name)), summaryMarker(tr)
	}
	id, err := s.upsert(ctx, rec.Number, marker, body)
	if err != nil {
		return fmt.Errorf("pull request #%d: summary comment: %w", rec.Number, err)
	}
	rec.SummaryComment = id
	s.event(v1alpha1.EventNormal, v1alpha1.ReasonRunReported, "pull request #%d: TestRun %s %s, summary comment %d", rec.Number, rec.TestRun, rec.Reported, id)
	return nil
}

// goneMarker and goneBody are the summary of a run that was deleted after its verdict was
// posted and before its summary was.
func goneMarker(rec *v1alpha1.PullRequestRecord) string {
	return fmt.Sprintf("<!-- swarmrun:summary testrun=%s uid=%s -->", rec.TestRun, rec.TestRunUID)
}

func goneBody(rec *v1alpha1.PullRequestRecord) string {
	return goneMarker(rec) + "\n" + fmt.Sprintf("**swarmrun** tested `%s`: **%s**. The TestRun %s was deleted before its summary was posted.", short(rec.Head), rec.Reported, rec.TestRun)
}

// upsert edits the forge user's comment on pull request n that carries marker, or posts
// body as a new one, and returns its ID.
func (s *session) upsert(ctx context.Context, n int64, marker, body string) (int64, error) {
	cs, err := s.c.IssueComments(ctx, s.fr, n)
	if err != nil {
		return 0, err
	}
	if c, ok := mine(cs, s.user, marker); ok {
		if c.Body != body {
			if _, err := s.c.EditComment(ctx, s.fr, c.ID, body); err != nil {
				return 0, err
			}
		}
		return c.ID, nil
	}
	c, err := s.c.CreateComment(ctx, s.fr, n, body)
	return c.ID, err
}
