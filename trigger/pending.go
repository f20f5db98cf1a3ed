package trigger

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/forge"
	"github.com/swarmrun/swarmrun/spec"
)

// outcome is what handling a pending comment came to.
type outcome int

const (
	// waits: the comment's pull request has a run that is still going (or being deleted, or
	// not reported yet); the comment stays pending.
	waits outcome = iota
	// progressed: something was done towards the comment (the finished run it replaces was
	// deleted); it stays pending.
	progressed
	// handled: the comment is done with (a run started, a refusal, or nothing to do).
	handled
)

// pending handles the first pending comment that can be handled now, and reports whether it
// did anything.
func (s *session) pending(ctx context.Context) (bool, error) {
	st := &s.repo.Status
	for i, p := range st.Pending {
		out, err := s.handle(ctx, p)
		if err != nil {
			return false, fmt.Errorf("pull request #%d, comment %d: %w", p.PullRequest, p.ID, err)
		}
		switch out {
		case handled:
			st.Pending = slices.Delete(st.Pending, i, i+1)
			return true, nil
		case progressed:
			return true, nil
		}
	}
	return false, nil
}

// handle takes the next step for one pending comment. It trusts nothing the announcement
// said but the comment's ID: the comment is read back from the forge.
func (s *session) handle(ctx context.Context, p v1alpha1.PendingComment) (outcome, error) {
	st := &s.repo.Status
	if alreadyHandled(st, p.PullRequest, p.ID) {
		return handled, nil
	}
	c, err := s.c.Comment(ctx, s.fr, p.ID)
	if errors.Is(err, forge.ErrNotFound) {
		return handled, nil // deleted since
	}
	if err != nil {
		return 0, err
	}
	n := c.PullRequestNumber()
	switch {
	case n != p.PullRequest:
		// Announced for another pull request than it is on (or on an issue): not ours to act
		// on.
		return handled, nil
	case c.Created.Before(s.repo.CreationTimestamp):
		// Older than the Repository: a replay of history never starts runs.
		return handled, nil
	case !Asks(c.Body, s.repo.Spec.Trigger.Phrase):
		return handled, nil
	case strings.EqualFold(c.User.Login, s.user):
		return handled, nil
	}
	ok, err := s.authorised(ctx, c.User.Login)
	if err != nil {
		return 0, err
	}
	if !ok {
		return handled, s.refuse(ctx, n, c)
	}
	pr, err := s.c.PullRequest(ctx, s.fr, n)
	if errors.Is(err, forge.ErrNotFound) {
		return handled, nil
	}
	if err != nil {
		return 0, err
	}
	if pr.State != "open" {
		s.record(n).LastComment = c.ID
		s.event(v1alpha1.EventNormal, v1alpha1.ReasonTriggerIgnored, "pull request #%d is %s: comment %d by %s starts nothing", n, pr.State, c.ID, c.User.Login)
		return handled, nil
	}
	return s.start(ctx, n, c, pr.Head.SHA)
}

// authorised reports whether user may ask for runs: a user the Repository names, or a
// member of a team (or an organisation) it names, as the forge says now.
func (s *session) authorised(ctx context.Context, user string) (bool, error) {
	t := s.repo.Spec.Trigger
	for _, u := range t.Users {
		if strings.EqualFold(u, user) {
			return true, nil
		}
	}
	for _, ref := range t.Teams {
		var (
			ok  bool
			err error
		)
		if ref.Team == "" {
			ok, err = s.c.IsOrgMember(ctx, ref.Org, user)
		} else {
			ok, err = s.teamMember(ctx, ref, user)
		}
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// teamMember asks the forge whether user is in the team, found by name among the
// organisation's teams. A team that does not exist has no members.
func (s *session) teamMember(ctx context.Context, ref v1alpha1.TeamRef, user string) (bool, error) {
	id, ok := s.teams[ref]
	if !ok {
		for page := 1; page <= s.r.o.MaxPollPages && !ok; page++ {
			ts, err := s.c.OrgTeams(ctx, ref.Org, page)
			if err != nil {
				return false, fmt.Errorf("spec.trigger.teams %s/%s: %w", ref.Org, ref.Team, err)
			}
			for _, t := range ts {
				if strings.EqualFold(t.Name, ref.Team) {
					id, ok = t.ID, true
				}
			}
			if len(ts) < forge.PageSize {
				break
			}
		}
		s.teams[ref] = id
	}
	if id == 0 {
		return false, nil
	}
	ok, err := s.c.IsTeamMember(ctx, id, user)
	if err != nil {
		return false, fmt.Errorf("spec.trigger.teams %s/%s: %w", ref.Org, ref.Team, err)
	}
	return ok, nil
}

// refuse records that comment c of an author who may not ask was handled and, the first
// time on the pull request, tells them so.
func (s *session) refuse(ctx context.Context, n int64, c forge.Comment) error {
	rec := s.record(n)
	if rec.RefusalComment == 0 {
		id, err := s.upsert(ctx, n, refusalMarker, refusalBody(c.User.Login, s.repo.Spec.Trigger.Phrase))
		if err != nil {
			return fmt.Errorf("refusal comment: %w", err)
		}
		rec.RefusalComment = id
	}
	rec.LastComment = c.ID
	s.event(v1alpha1.EventWarning, v1alpha1.ReasonTriggerRefused, "pull request #%d: comment %d by %s asks for a run, but %s is not among the users or teams who may", n, c.ID, c.User.Login, c.User.Login)
	return nil
}

// start starts the run comment c asks for on pull request n, at the pull request's head: it
// replaces the pull request's finished and reported run (delete, then create on a later
// step), waits for one that is still going, and never touches a TestRun of the name that
// another Repository or a person made.
func (s *session) start(ctx context.Context, n int64, c forge.Comment, head string) (outcome, error) {
	name := RunName(s.repo.Spec.Recipe, n)
	rec := s.record(n)
	cur := &v1alpha1.TestRun{}
	err := s.r.o.Objects.Get(ctx, name, cur)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return s.create(ctx, n, c, head, name)
	case err != nil:
		return 0, err
	case !ownedBy(cur, s.repo.Name):
		rec.LastComment = c.ID
		s.event(v1alpha1.EventWarning, v1alpha1.ReasonTriggerIgnored, "pull request #%d: comment %d by %s asks for a run, but TestRun %s exists and was not started by this Repository", n, c.ID, c.User.Login, name)
		return handled, nil
	case commentOf(cur) == c.ID:
		// Created by an earlier attempt that crashed before it saved the record.
		s.adopt(rec, cur, c, head)
		return handled, nil
	case cur.DeletionTimestamp != nil, verdict(cur) == "", rec.TestRun == cur.Name && rec.TestRunUID == cur.UID && !reported(rec):
		return waits, nil
	}
	if _, err := s.r.o.Objects.Delete(ctx, v1alpha1.KindTestRun, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("delete TestRun %s to replace it: %w", name, err)
	}
	s.event(v1alpha1.EventNormal, v1alpha1.ReasonRunReplaced, "pull request #%d: comment %d by %s replaces the finished TestRun %s", n, c.ID, c.User.Login, name)
	return progressed, nil
}

// create creates the TestRun of the Repository's template at head and records it.
func (s *session) create(ctx context.Context, n int64, c forge.Comment, head, name string) (outcome, error) {
	t := s.repo.Spec.Template
	tr := &v1alpha1.TestRun{
		ObjectMeta: v1alpha1.ObjectMeta{Name: name, Labels: runLabels(s.repo.Name, n, c.ID)},
		Spec: v1alpha1.TestRunSpec{Recipe: s.repo.Spec.Recipe, Head: head, Stages: slices.Clone(t.Stages), UpgradeBase: t.UpgradeBase,
			Env: maps.Clone(t.Env), Teardown: t.Teardown},
	}
	if t.Timeout != nil {
		tr.Spec.Timeout = &v1alpha1.Duration{Duration: t.Timeout.Duration}
	}
	if t.Base != nil {
		tr.Spec.Base = &v1alpha1.BaseSource{From: t.Base.From}
	}
	tr.Default()
	if problems := spec.Validate(tr); len(problems) > 0 {
		s.record(n).LastComment = c.ID
		s.event(v1alpha1.EventWarning, v1alpha1.ReasonTriggerIgnored, "pull request #%d: comment %d: the TestRun would be invalid: %s", n, c.ID, problems[0])
		return handled, nil
	}
	err := s.r.o.Objects.Create(ctx, tr)
	if errors.Is(err, store.ErrAlreadyExists) {
		return progressed, nil // someone made it meanwhile: the next step looks at it
	}
	if err != nil {
		return 0, fmt.Errorf("create TestRun %s: %w", name, err)
	}
	s.adopt(s.record(n), tr, c, head)
	s.event(v1alpha1.EventNormal, v1alpha1.ReasonRunStarted, "pull request #%d: comment %d by %s started TestRun %s at %s", n, c.ID, c.User.Login, name, short(head))
	return handled, nil
}

// adopt makes tr the pull request's current run.
func (s *session) adopt(rec *v1alpha1.PullRequestRecord, tr *v1alpha1.TestRun, c forge.Comment, head string) {
	*rec = v1alpha1.PullRequestRecord{Number: rec.Number, LastComment: c.ID, TestRun: tr.Name, TestRunUID: tr.UID, Comment: c.ID,
		User: c.User.Login, Head: head, RefusalComment: rec.RefusalComment}
	if tr.Spec.Head != "" {
		rec.Head = tr.Spec.Head
	}
}
