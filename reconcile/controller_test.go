package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/checks"
	"github.com/swarmrun/swarmrun/deploy/events"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/internal/mask"
	"github.com/swarmrun/swarmrun/warm"
)

// testController is the TestRun controller as the tests and benchmarks of this package run
// it: the reconciler in a controller fed by the store, the engine's events and a periodic
// listing (cmd's app wires the same parts for serve and run).
type testController struct {
	Store   *store.Store
	Engine  deploy.Engine
	DataDir string
	Workers int
	// MinBackoff and MaxBackoff bound retries (the controller's defaults when zero).
	MinBackoff, MaxBackoff time.Duration
	Progress               func(Progress)
	NoEvents               bool
	Metrics                prometheus.Registerer
	// Stable is the judge's stability window (stack.Options.Stable).
	Stable time.Duration
	// Checks runs checks; default the real runner over Engine.
	Checks CheckRunner
	// Promotion lets green runs of warm recipes promote.
	Promotion bool
	// Warm runs the Recipe controller too, which keeps warm stacks.
	Warm bool
	// MaxRuns bounds the runs in flight (Options.MaxRuns).
	MaxRuns int
}

func (o testController) run(ctx context.Context) error {
	pipeline, err := stack.New(stack.Options{Engine: o.Engine, DataDir: o.DataDir, Stable: o.Stable})
	if err != nil {
		return err
	}
	if o.Checks == nil {
		o.Checks = realChecks{r: checks.New(checks.Options{Engine: o.Engine,
			Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}})}
	}
	var promoter Promoter
	if o.Promotion {
		promoter = warm.NewPromoter(warm.PromoterOptions{Objects: o.Store})
	}
	var c *controller.Controller
	rec, err := NewTestRunReconciler(Options{Store: o.Store, Stacks: pipeline, Checks: o.Checks, DataDir: o.DataDir,
		Progress: o.Progress, Promoter: promoter, Wake: func(r controller.Request) { c.Enqueue(r) }, MaxRuns: o.MaxRuns})
	if err != nil {
		return err
	}
	defer rec.Stop()
	c = controller.New(rec, controller.Options{Name: "testruns", Workers: o.Workers, MinBackoff: o.MinBackoff,
		MaxBackoff: o.MaxBackoff, Metrics: o.Metrics})
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		return c.Run(ctx, controller.StoreSource{Store: o.Store, Kinds: []string{v1alpha1.KindTestRun},
			Map: controller.Self(controller.Change.SpecChanged)})
	})
	var recipes *controller.Controller
	if o.Warm {
		rr, err := warm.NewRecipeReconciler(warm.RecipeOptions{Objects: o.Store, Stacks: pipeline, DataDir: o.DataDir})
		if err != nil {
			return err
		}
		recipes = controller.New(rr, controller.Options{Name: "recipes", MinBackoff: o.MinBackoff, MaxBackoff: o.MaxBackoff})
		eg.Go(func() error {
			return recipes.Run(ctx, controller.StoreSource{Store: o.Store, Kinds: []string{v1alpha1.KindRecipe}, Map: controller.Self(nil)})
		})
	}
	if !o.NoEvents {
		eg.Go(func() error {
			runs := controller.LabelMapper(v1alpha1.LabelTestRun, v1alpha1.KindTestRun).Handler(c.Enqueue)
			warms := func(map[string]string) {}
			if recipes != nil {
				warms = controller.LabelMapper(v1alpha1.LabelWarm, v1alpha1.KindRecipe).Handler(recipes.Enqueue)
			}
			return events.Watch(ctx, events.Options{Engine: o.Engine, Label: v1alpha1.LabelManagedBy, OnHealth: pipeline.RecordHealth},
				func(labels map[string]string) { runs(labels); warms(labels) })
		})
	}
	if err := eg.Wait(); err != nil {
		return fmt.Errorf("testrun controller: %w", err)
	}
	return nil
}

// realChecks runs checks with the real runner, labelled per run.
type realChecks struct{ r *checks.Runner }

func (c realChecks) Run(ctx context.Context, st string, ch v1alpha1.Check, labels map[string]string, m *mask.Masker) v1alpha1.CheckResult {
	return c.r.WithLabels(labels).Run(ctx, st, ch, m)
}
