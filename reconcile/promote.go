package reconcile

import (
	"context"
	"errors"
	"fmt"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/warm"
)

// Promoter decides and records promotions; *warm.Promoter is one.
type Promoter interface {
	Promote(ctx context.Context, run *v1alpha1.TestRun, published []stack.Version) (warm.Decision, error)
}

var _ Promoter = (*warm.Promoter)(nil)

// promote asks the promoter about a run whose verdict is set but not stored yet, and sets
// the Promoted condition, so that the verdict and the promotion are stored in one write: a
// run whose verdict is stored is never promoted again, whatever restarts come after. A
// restart between the promoter's write of the canonical and that store finds the canonical
// naming this run at this commit and takes it as its own promotion, without deciding again.
// A newer canonical written meanwhile makes the decision a refusal, never a downgrade.
//
// Recipes that are not warm are not asked about: every run of them would otherwise carry a
// refusal that says nothing new.
func (r *TestRunReconciler) promote(ctx context.Context, rn *run) error {
	tr := rn.tr
	if r.o.Promoter == nil || tr.Status.Head == nil {
		return nil
	}
	rc := &v1alpha1.Recipe{}
	err := r.o.Store.Get(ctx, tr.Spec.Recipe, rc)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("promote: %w", err)
	}
	if !rc.Spec.Warm {
		return nil
	}
	if c := rc.Status.Canonical; c != nil && c.Run == tr.Name && c.Commit == tr.Status.Head.Commit {
		r.setCondition(tr, v1alpha1.ConditionPromoted, v1alpha1.ConditionTrue, v1alpha1.ReasonPromoted,
			fmt.Sprintf("%s at %s is the canonical of %s", c.Version, shortSHA(c.Commit), rc.Name))
		return nil
	}
	var published []stack.Version
	if apimeta.IsStatusConditionTrue(tr.Status.Conditions, v1alpha1.ConditionSucceeded) {
		// The versions as of the run's resolve (the mirror is fetched then): a tag published
		// while the run ran is the next run's to promote.
		src, err := r.source(ctx, rn)
		if err != nil {
			return err
		}
		if published, err = src.Versions(ctx); err != nil {
			return fmt.Errorf("promote: %w", err)
		}
	}
	d, err := r.o.Promoter.Promote(ctx, tr, published)
	if err != nil {
		return err
	}
	status := v1alpha1.ConditionFalse
	if d.Promote {
		status = v1alpha1.ConditionTrue
	}
	r.setCondition(tr, v1alpha1.ConditionPromoted, status, d.EventReason(), d.Reason)
	return nil
}
