package warm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy"
)

// DefaultRecipeResync is how often every Recipe is listed and its warm stack checked again,
// which also brings back a warm stack removed behind swarmrun's back.
const DefaultRecipeResync = 10 * time.Minute

// RecipeControllerOptions wire the Recipe controller.
type RecipeControllerOptions struct {
	Store  *store.Store
	Engine deploy.Engine
	// Stacks deploys warm stacks (package reconcile's recipe deploy). Required.
	Stacks StackDeployer
	// RemoveVolumes: see RecipeOptions.
	RemoveVolumes bool
	// Workers and ReconcileTimeout tune the driver (see controller.Options); a warm deploy
	// waits for convergence, so the timeout should exceed the recipes' deploy timeouts.
	Workers          int
	ReconcileTimeout time.Duration
	// Resync lists every Recipe again this often; zero means DefaultRecipeResync.
	Resync time.Duration
	// Now is the clock (default time.Now).
	Now     func() time.Time
	Metrics prometheus.Registerer
}

// RunRecipeController runs the RecipeReconciler until ctx ends, fed by a watch of the
// store's Recipes (a promotion, warm turned on or off, a deletion) and a periodic listing.
func RunRecipeController(ctx context.Context, o RecipeControllerOptions) error {
	if o.Store == nil || o.Engine == nil || o.Stacks == nil {
		return errors.New("recipe controller: store, engine and stack deployer are required")
	}
	if o.Resync <= 0 {
		o.Resync = DefaultRecipeResync
	}
	r := NewRecipeReconciler(RecipeOptions{Objects: o.Store, Engine: o.Engine, Stacks: o.Stacks, RemoveVolumes: o.RemoveVolumes, Now: o.Now})
	c := controller.New(r, controller.Options{
		Name:             "recipes",
		Workers:          o.Workers,
		ReconcileTimeout: o.ReconcileTimeout,
		Now:              o.Now,
		Metrics:          o.Metrics,
	})
	return c.Run(ctx, RecipeSource(o.Store), controller.Ticker{Period: o.Resync, List: func(ctx context.Context) ([]controller.Request, error) {
		objs, _, err := o.Store.List(ctx, v1alpha1.KindRecipe)
		if err != nil {
			return nil, fmt.Errorf("list recipes: %w", err)
		}
		return recipeRequests(objs), nil
	}})
}

// RecipeSource lists every Recipe, then watches the store's Recipes from the listing on,
// enqueueing each changed or deleted one; when the store asks for a new listing it lists and
// watches again.
func RecipeSource(st *store.Store) controller.Source {
	return controller.SourceFunc(func(ctx context.Context, enqueue func(controller.Request)) error {
		for {
			objs, rv, err := st.List(ctx, v1alpha1.KindRecipe)
			if err != nil {
				return fmt.Errorf("list recipes: %w", err)
			}
			for _, req := range recipeRequests(objs) {
				enqueue(req)
			}
			ch, err := st.Watch(ctx, v1alpha1.KindRecipe, rv)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("watch recipes: %w", err)
			}
			relist := false
			for ev := range ch {
				if ev.Type == store.Relist {
					relist = true
					break
				}
				if rc, ok := ev.Object.(*v1alpha1.Recipe); ok {
					enqueue(controller.Request{Kind: v1alpha1.KindRecipe, Name: rc.Name})
				}
			}
			switch {
			case ctx.Err() != nil:
				return nil
			case !relist:
				return errors.New("recipe watch closed")
			}
		}
	})
}

func recipeRequests(objs []v1alpha1.Object) []controller.Request {
	reqs := make([]controller.Request, 0, len(objs))
	for _, obj := range objs {
		if rc, ok := obj.(*v1alpha1.Recipe); ok {
			reqs = append(reqs, controller.Request{Kind: v1alpha1.KindRecipe, Name: rc.Name})
		}
	}
	return reqs
}
