package reconcile

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
	"github.com/swarmrun/swarmrun/deploy/checks"
	"github.com/swarmrun/swarmrun/deploy/events"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/warm"
)

// DefaultResync is how often every TestRun is listed and enqueued again.
const DefaultResync = 5 * time.Minute

// ControllerOptions wire the TestRun controller: the reconciler over an engine and a store,
// the driver's queue, and its sources.
type ControllerOptions struct {
	Store  *store.Store
	Engine deploy.Engine
	// DataDir holds runs, recipe mirrors and the secret key.
	DataDir string
	// Workers, MinBackoff, MaxBackoff and ReconcileTimeout tune the driver (see
	// controller.Options); zero values take its defaults.
	Workers                int
	MinBackoff, MaxBackoff time.Duration
	ReconcileTimeout       time.Duration
	// Resync lists every TestRun again this often; zero means DefaultResync.
	Resync time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Stable and Poll tune convergence waits (see Options).
	Stable, Poll time.Duration
	// Progress receives convergence progress (see Options).
	Progress func(Progress)
	// NoEvents turns the Docker event source off (an engine without an event stream).
	NoEvents bool
	// Metrics receives the driver's collectors.
	Metrics prometheus.Registerer
	// Recipes opens recipe sources; default a cache under <DataDir>/recipes. Serve shares
	// one with its WarmStacks.
	Recipes *recipe.Cache
	// NoPromotion turns promotion off: no finished run writes a Recipe's canonical.
	NoPromotion bool
}

// RunController runs the TestRun controller until ctx ends: the reconciler (promoting the
// finished runs of warm recipes unless NoPromotion) in a controller fed by a watch of the store (a TestRun's change wakes it, a Recipe's change wakes every
// TestRun of that recipe), the Docker events of the services runs own, and a periodic listing
// of every TestRun.
func RunController(ctx context.Context, o ControllerOptions) error {
	if o.Store == nil || o.Engine == nil {
		return errors.New("testrun controller: store and engine are required")
	}
	if o.Resync <= 0 {
		o.Resync = DefaultResync
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var promoter Promoter
	if !o.NoPromotion {
		promoter = warm.NewPromoter(warm.PromoterOptions{Objects: o.Store, Now: o.Now})
	}
	rec, err := NewTestRunReconciler(Options{
		Store:    o.Store,
		Engine:   o.Engine,
		Deployer: deploy.New(deploy.Options{Engine: o.Engine, Now: o.Now}),
		Checks: checks.New(checks.Options{Engine: o.Engine, Now: o.Now,
			Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}}),
		Recipes:  o.Recipes,
		DataDir:  o.DataDir,
		Now:      o.Now,
		Stable:   o.Stable,
		Poll:     o.Poll,
		Progress: o.Progress,
		Promoter: promoter,
	})
	if err != nil {
		return err
	}
	c := controller.New(rec, controller.Options{
		Name:             "testruns",
		Workers:          o.Workers,
		MinBackoff:       o.MinBackoff,
		MaxBackoff:       o.MaxBackoff,
		ReconcileTimeout: o.ReconcileTimeout,
		Now:              o.Now,
		Metrics:          o.Metrics,
	})
	sources := []controller.Source{
		storeSource(o.Store, rec.Interrupt),
		controller.Ticker{Period: o.Resync, List: func(ctx context.Context) ([]controller.Request, error) {
			return listTestRuns(ctx, o.Store, "")
		}},
	}
	if !o.NoEvents {
		sources = append(sources, EventSource(o.Engine))
	}
	return c.Run(ctx, sources...)
}

// EventSource wakes the TestRun that owns a service (its swarmrun.dev/testrun label) when
// the engine reports an event of the service or of one of its task containers.
func EventSource(engine deploy.Engine) controller.Source {
	mapper := controller.LabelMapper(v1alpha1.LabelTestRun, v1alpha1.KindTestRun)
	return controller.SourceFunc(func(ctx context.Context, enqueue func(controller.Request)) error {
		return events.Watch(ctx, events.Options{Engine: engine, Label: v1alpha1.LabelTestRun}, mapper.Handler(enqueue))
	})
}

// StoreSource lists every TestRun, then watches the store from the listing on: a TestRun's
// change enqueues it, a Recipe's change enqueues every TestRun of that recipe. When the
// store tells the watch to re-list, it lists and watches again.
func StoreSource(st *store.Store) controller.Source {
	return storeSource(st, nil)
}

// storeSource is StoreSource that also calls deleting with the name of every TestRun seen
// marked for deletion.
func storeSource(st *store.Store, deleting func(name string)) controller.Source {
	return controller.SourceFunc(func(ctx context.Context, enqueue func(controller.Request)) error {
		for {
			objs, rv, err := st.List(ctx, v1alpha1.KindTestRun)
			if err != nil {
				return fmt.Errorf("list testruns: %w", err)
			}
			for _, req := range requests(objs, "") {
				enqueue(req)
			}
			ch, err := st.Watch(ctx, "", rv)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("watch store: %w", err)
			}
			relist, err := forward(ctx, st, ch, enqueue, deleting)
			if err != nil || !relist {
				return err
			}
		}
	})
}

// forward maps watch events to requests until the watch ends; relist says the store asked
// for a new listing.
func forward(ctx context.Context, st *store.Store, ch <-chan store.WatchEvent, enqueue func(controller.Request), deleting func(string)) (relist bool, err error) {
	for ev := range ch {
		if ev.Type == store.Relist {
			return true, nil
		}
		switch o := ev.Object.(type) {
		case *v1alpha1.TestRun:
			if o.DeletionTimestamp != nil && deleting != nil {
				deleting(o.Name)
			}
			enqueue(controller.Request{Kind: v1alpha1.KindTestRun, Name: o.Name})
		case *v1alpha1.Recipe:
			reqs, err := listTestRuns(ctx, st, o.Name)
			if err != nil {
				return false, err
			}
			for _, req := range reqs {
				enqueue(req)
			}
		}
	}
	if ctx.Err() != nil {
		return false, nil
	}
	return false, errors.New("store watch closed")
}

// listTestRuns lists the TestRuns (of recipe, when set) as requests.
func listTestRuns(ctx context.Context, st *store.Store, recipe string) ([]controller.Request, error) {
	objs, _, err := st.List(ctx, v1alpha1.KindTestRun)
	if err != nil {
		return nil, fmt.Errorf("list testruns: %w", err)
	}
	return requests(objs, recipe), nil
}

// requests are the keys of the TestRuns among objs (of recipe, when set).
func requests(objs []v1alpha1.Object, recipe string) []controller.Request {
	var reqs []controller.Request
	for _, obj := range objs {
		tr, ok := obj.(*v1alpha1.TestRun)
		if !ok || (recipe != "" && tr.Spec.Recipe != recipe) {
			continue
		}
		reqs = append(reqs, controller.Request{Kind: v1alpha1.KindTestRun, Name: tr.Name})
	}
	return reqs
}
