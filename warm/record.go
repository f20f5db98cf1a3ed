package warm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/recipe"
)

// Promoter decides and records promotions. It is what the TestRun reconciler calls once a
// run has finished.
type Promoter struct {
	objects Objects
	now     func() time.Time
}

// PromoterOptions configure a Promoter.
type PromoterOptions struct {
	// Objects is the store or API client. Required.
	Objects Objects
	// Now is the clock of PromotedAt (default time.Now).
	Now func() time.Time
}

// NewPromoter returns a Promoter.
func NewPromoter(o PromoterOptions) *Promoter {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Promoter{objects: o.Objects, now: o.Now}
}

// Promote decides whether run promotes its head (see Decide), records the decision as an
// event on the TestRun and the Recipe, and on a promotion writes Recipe.status.canonical.
//
// The write carries the resourceVersion the decision was made on. If another writer got
// there first (two runs promoting at once), the Recipe is read again and the decision made
// again on what is now recorded: a run whose version is not newer than the new record then
// loses with a reason, and a newer one replaces it. A second conflict is returned for the
// caller's retry. The warm stack follows the record through the RecipeReconciler.
func (p *Promoter) Promote(ctx context.Context, run *v1alpha1.TestRun, published []recipe.Version) (Decision, error) {
	var d Decision
	for attempt := 1; ; attempt++ {
		rc, err := p.recipe(ctx, run.Spec.Recipe)
		if err != nil {
			return Decision{}, err
		}
		d = Decide(PromoteInput{Run: run, Recipe: rc, Published: published, Now: p.now()})
		if !d.Promote {
			break
		}
		canonical := d.Canonical
		rc.Status.Canonical = &canonical
		err = p.objects.UpdateStatus(ctx, rc)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) || attempt == 2 {
			return Decision{}, fmt.Errorf("promote %s to canonical of %s: %w", d.Canonical.Version, run.Spec.Recipe, err)
		}
	}
	// A refusal is an ordinary outcome (most runs are not the newest release), not a warning.
	typ := v1alpha1.EventNormal
	event(ctx, p.objects, v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: run.Name, UID: run.UID}, typ, d.EventReason(), d.Reason)
	event(ctx, p.objects, v1alpha1.ObjectReference{Kind: v1alpha1.KindRecipe, Name: run.Spec.Recipe}, typ, d.EventReason(),
		fmt.Sprintf("run %s: %s", run.Name, d.Reason))
	logr.FromContextOrDiscard(ctx).Info("promotion decided", "run", run.Name, "recipe", run.Spec.Recipe,
		"promoted", d.Promote, "reason", d.Reason)
	return d, nil
}

// recipe reads the Recipe, nil when it does not exist.
func (p *Promoter) recipe(ctx context.Context, name string) (*v1alpha1.Recipe, error) {
	rc := &v1alpha1.Recipe{}
	err := p.objects.Get(ctx, name, rc)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("promote: %w", err)
	}
	return rc, nil
}
