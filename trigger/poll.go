package trigger

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/forge"
)

// poll lists the repository's comments updated since the cursor, when a poll is due, and
// adds those that ask for a run to the pending comments; it reports whether it polled. The
// cursor starts at the Repository's creation: comments older than the Repository never start
// runs. The forge lists comments updated at or after the cursor, so the newest is listed
// again by the next poll, and found handled or pending.
func (s *session) poll(ctx context.Context) (bool, error) {
	every := s.repo.Spec.Poll()
	st := &s.repo.Status
	if every == 0 || (st.LastPollTime != nil && s.now.Sub(st.LastPollTime.Time) < every) {
		return false, nil
	}
	since := s.repo.CreationTimestamp
	if st.PollCursor != nil {
		since = st.PollCursor.Time
	}
	newest := since
pages:
	for page := 1; page <= s.r.o.MaxPollPages; page++ {
		cs, err := s.c.RepoComments(ctx, s.fr, since, page)
		if err != nil {
			return false, err
		}
		for _, c := range cs {
			if !edited(c, since) && s.candidate(c) && !enqueue(st, v1alpha1.PendingComment{ID: c.ID, PullRequest: c.PullRequestNumber()}) {
				// Full: the cursor stays, and the next poll lists the rest again.
				newest = since
				break pages
			}
			if c.Updated.After(newest) {
				newest = c.Updated
			}
		}
		if len(cs) < forge.PageSize {
			break
		}
		if page == s.r.o.MaxPollPages {
			logr.FromContextOrDiscard(ctx).Info("poll stopped at its page bound; the next poll goes on from the newest comment listed", "pages", page)
		}
	}
	st.PollCursor = &v1alpha1.Time{Time: newest}
	st.LastPollTime = &v1alpha1.Time{Time: s.now}
	return true, nil
}

// edited reports whether a listed comment is an edit of one an earlier poll listed: made
// before the cursor, or at its second and changed since. Edits ask for nothing, as the
// webhook ignores them too: a comment asks when it is made.
func edited(c forge.Comment, since time.Time) bool {
	return c.Created.Before(since) || (!c.Created.After(since) && c.Updated.After(c.Created))
}

// candidate reports whether a listed comment may ask for a run: on a pull request, with the
// phrase, not by the forge user, and not handled yet.
func (s *session) candidate(c forge.Comment) bool {
	n := c.PullRequestNumber()
	return n > 0 && Asks(c.Body, s.repo.Spec.Trigger.Phrase) && !strings.EqualFold(c.User.Login, s.user) &&
		!alreadyHandled(&s.repo.Status, n, c.ID)
}

// enqueue adds p to the pending comments unless it is there already; it reports false when
// the list is full.
func enqueue(st *v1alpha1.RepositoryStatus, p v1alpha1.PendingComment) bool {
	if slices.Contains(st.Pending, p) {
		return true
	}
	if len(st.Pending) >= v1alpha1.MaxPendingComments {
		return false
	}
	st.Pending = append(st.Pending, p)
	return true
}
