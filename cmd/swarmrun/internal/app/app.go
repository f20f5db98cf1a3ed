package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/objcmd"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/checks"
	"github.com/swarmrun/swarmrun/deploy/events"
	"github.com/swarmrun/swarmrun/deploy/policy"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/internal/mask"
	"github.com/swarmrun/swarmrun/internal/metrics"
	"github.com/swarmrun/swarmrun/reconcile"
	"github.com/swarmrun/swarmrun/trigger"
	"github.com/swarmrun/swarmrun/warm"
)

// Defaults of the controllers' flags.
const (
	// DefaultResync is how often every object is listed and reconciled again.
	DefaultResync = 5 * time.Minute
	// DefaultReconcileTimeout bounds one reconcile: one step of a run, never a whole deploy.
	DefaultReconcileTimeout = 2 * time.Minute
	// DefaultGCInterval is how often serve runs a garbage collection pass.
	DefaultGCInterval = 5 * time.Minute
)

// Flags are the controllers' knobs, shared by serve and run.
type Flags struct {
	Workers          int
	MinBackoff       time.Duration
	MaxBackoff       time.Duration
	Resync           time.Duration
	ReconcileTimeout time.Duration
	// PolicyFile is the deploy policy every stack must pass (none: the safe default).
	PolicyFile string
	// MaxRuns bounds the TestRuns in flight at once (reconcile.Options.MaxRuns).
	MaxRuns int
}

// Bind registers the flags on fs.
func (f *Flags) Bind(fs *pflag.FlagSet) {
	fs.IntVar(&f.Workers, "workers", controller.DefaultWorkers, "objects reconciled at once, per controller (each reconcile is one short step)")
	fs.DurationVar(&f.MinBackoff, "min-backoff", controller.DefaultMinBackoff, "first retry delay of a failing reconcile")
	fs.DurationVar(&f.MaxBackoff, "max-backoff", controller.DefaultMaxBackoff, "longest retry delay of a failing reconcile")
	fs.DurationVar(&f.Resync, "resync", DefaultResync, "how often every object is reconciled again")
	fs.DurationVar(&f.ReconcileTimeout, "reconcile-timeout", DefaultReconcileTimeout, "bound of one reconcile step")
	fs.IntVar(&f.MaxRuns, "max-runs", reconcile.DefaultMaxRuns, "TestRuns in flight at once (deploying, converging, checking); more wait their turn (-1: no bound)")
	fs.StringVar(&f.PolicyFile, "policy-file", "", "deploy policy (YAML or JSON) that every stack must pass before it is applied; none: only the stack's own objects, no host paths")
}

// Policy reads the deploy policy the flags name: the safe default without a file. A file
// that cannot be read or is invalid is bad input (exit 2): nothing starts on it.
func (f *Flags) Policy() (policy.Policy, error) {
	if f.PolicyFile == "" {
		return policy.Default(), nil
	}
	p, err := policy.Load(f.PolicyFile)
	if err != nil {
		return policy.Policy{}, cli.Invalid(fmt.Errorf("--policy-file: %w", err))
	}
	return p, nil
}

// GCOptions configure serve's periodic garbage collection.
type GCOptions struct {
	// Interval between passes; zero or less turns periodic collection off.
	Interval time.Duration
	Policy   warm.Policy
	// MaxDeletions per pass (default warm.DefaultMaxDeletions).
	MaxDeletions int
	// Report, when set, receives each pass's report (serve's status page keeps the removals).
	Report func(*warm.Report)
}

// BindGC registers serve's garbage collection flags on f, filling o.
func BindGC(f *pflag.FlagSet, o *GCOptions) {
	f.DurationVar(&o.Interval, "gc-interval", DefaultGCInterval, "how often to collect stale stacks and objects (0 turns it off)")
	f.DurationVar(&o.Policy.Grace, "gc-grace", warm.DefaultGrace, "grace period before a finished or orphaned run's stack is stale")
	f.BoolVar(&o.Policy.AdoptWarm, "gc-adopt-warm", false, "remove unlabelled warm-<recipe> (and warm-<recipe>_<domain>) stacks of a Recipe that exists and has no canonical record")
	f.IntVar(&o.MaxDeletions, "gc-max-deletions", warm.DefaultMaxDeletions, "removals per garbage collection pass")
}

// Options are what Run wires.
type Options struct {
	Store  *store.Store
	Engine deploy.Engine
	// DataDir holds runs, recipe mirrors, warm deploy directories and the secret key.
	DataDir string
	Flags   Flags
	// Warm runs the Recipe controller, which keeps warm stacks (serve).
	Warm bool
	// Promotion lets green runs of warm recipes write the recipe's canonical.
	Promotion bool
	// GC, when set with a positive interval, runs garbage collection passes (serve).
	GC *GCOptions
	// Forge, when set, runs the Repository controller: comments on pull requests start runs
	// and their verdicts go back to the forge (serve).
	Forge *ForgeOptions
	// NoEvents turns the Docker event source off (an engine without an event stream).
	NoEvents bool
	// Progress receives the runs' convergence progress (swarmrun run's live view).
	Progress func(reconcile.Progress)
	// Metrics receives the controllers' collectors.
	Metrics prometheus.Registerer
	// Observer counts what runs, warm stacks and garbage collection did (swarmrun's own
	// metrics); a nil one counts nothing.
	Observer *metrics.Metrics
	// Policy is the deploy policy every stack must pass.
	Policy policy.Policy
	// Stable tunes the convergence judge (stack.Options.Stable); tests shorten it.
	Stable time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Run runs the controllers until ctx ends: the TestRun controller (which promotes green runs
// of warm recipes when Promotion is set), the Recipe controller when Warm is set, and
// garbage collection when GC asks for it. They share one pipeline (one recipe cache, one
// secret key, one health log) and stop together.
func Run(ctx context.Context, o Options) error {
	if o.Store == nil || o.Engine == nil || o.DataDir == "" {
		return errors.New("controllers: store, engine and data dir are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Flags.Resync <= 0 {
		o.Flags.Resync = DefaultResync
	}
	if o.Flags.ReconcileTimeout == 0 {
		o.Flags.ReconcileTimeout = DefaultReconcileTimeout
	}
	pipeline, err := stack.New(stack.Options{Engine: o.Engine, DataDir: o.DataDir, Stable: o.Stable, Policy: o.Policy, Now: o.Now})
	if err != nil {
		return err
	}
	// The reconciler's background checks wake their run through the controller that drives
	// it, which is made right after the reconciler.
	var runs *controller.Controller
	var promoter reconcile.Promoter
	if o.Promotion {
		promoter = warm.NewPromoter(warm.PromoterOptions{Objects: o.Store, Now: o.Now})
	}
	rec, err := reconcile.NewTestRunReconciler(reconcile.Options{
		Store:    o.Store,
		Stacks:   pipeline,
		Checks:   CheckRunner(o.Engine, o.Now),
		DataDir:  o.DataDir,
		Now:      o.Now,
		Progress: o.Progress,
		Promoter: promoter,
		Wake:     func(req controller.Request) { runs.Enqueue(req) },
		MaxRuns:  o.Flags.MaxRuns,
		Observer: o.Observer,
	})
	if err != nil {
		return err
	}
	defer rec.Stop()
	runs = controller.New(rec, o.controllerOptions("testruns"))

	var recipes *controller.Controller
	if o.Warm {
		rr, err := warm.NewRecipeReconciler(warm.RecipeOptions{Objects: o.Store, Stacks: pipeline, DataDir: o.DataDir, Now: o.Now,
			Observer: o.Observer})
		if err != nil {
			return err
		}
		recipes = controller.New(rr, o.controllerOptions("recipes"))
	}

	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		return runs.Run(ctx, testRunSource(o.Store), o.ticker(v1alpha1.KindTestRun))
	})
	if recipes != nil {
		eg.Go(func() error {
			return recipes.Run(ctx, controller.StoreSource{Store: o.Store, Kinds: []string{v1alpha1.KindRecipe},
				Map: controller.Self(nil)}, o.ticker(v1alpha1.KindRecipe))
		})
	}
	if !o.NoEvents {
		eg.Go(func() error {
			wake := controller.LabelMapper(v1alpha1.LabelTestRun, v1alpha1.KindTestRun).Handler(runs.Enqueue)
			if recipes != nil {
				wakeRuns, wakeRecipes := wake, controller.LabelMapper(v1alpha1.LabelWarm, v1alpha1.KindRecipe).Handler(recipes.Enqueue)
				wake = func(labels map[string]string) { wakeRuns(labels); wakeRecipes(labels) }
			}
			return events.Watch(ctx, events.Options{Engine: o.Engine, Label: v1alpha1.LabelManagedBy, OnHealth: pipeline.RecordHealth}, wake)
		})
	}
	if o.GC != nil && o.GC.Interval > 0 {
		eg.Go(func() error { return collect(ctx, o) })
	}
	if o.Forge != nil {
		rr, err := trigger.NewRepositoryReconciler(trigger.Options{Objects: o.Store, SecretsDir: o.Forge.Dir(o.DataDir),
			TargetURL: o.Forge.TargetURL, Now: o.Now})
		if err != nil {
			return err
		}
		repos := controller.New(rr, o.controllerOptions("repositories"))
		eg.Go(func() error {
			return repos.Run(ctx, controller.StoreSource{Store: o.Store, Kinds: trigger.Kinds(), Map: trigger.Wakes}, o.ticker(v1alpha1.KindRepository))
		})
	}
	return eg.Wait()
}

func (o Options) controllerOptions(name string) controller.Options {
	return controller.Options{
		Name:             name,
		Workers:          o.Flags.Workers,
		MinBackoff:       o.Flags.MinBackoff,
		MaxBackoff:       o.Flags.MaxBackoff,
		ReconcileTimeout: o.Flags.ReconcileTimeout,
		Now:              o.Now,
		Metrics:          o.Metrics,
	}
}

// ticker lists every object of kind each resync period, so that objects whose events were
// missed are reconciled too.
func (o Options) ticker(kind string) controller.Source {
	return controller.Ticker{Period: o.Flags.Resync, List: func(ctx context.Context) ([]controller.Request, error) {
		objs, _, err := o.Store.List(ctx, kind)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", kind, err)
		}
		reqs := make([]controller.Request, 0, len(objs))
		for _, obj := range objs {
			reqs = append(reqs, controller.Request{Kind: kind, Name: obj.GetObjectMeta().Name})
		}
		return reqs, nil
	}}
}

// testRunSource wakes a TestRun when it is created, deleted or its spec, labels or
// finalizers change (the controller's own status writes step on through its results), and
// every TestRun of a Recipe whose spec changed or that is deleted.
func testRunSource(st *store.Store) controller.Source {
	return controller.StoreSource{Store: st, Kinds: []string{v1alpha1.KindTestRun, v1alpha1.KindRecipe},
		Map: func(ctx context.Context, c controller.Change) ([]controller.Request, error) {
			if !c.SpecChanged() {
				return nil, nil
			}
			rc, ok := c.New.(*v1alpha1.Recipe)
			if !ok {
				return []controller.Request{{Kind: v1alpha1.KindTestRun, Name: c.New.GetObjectMeta().Name}}, nil
			}
			if c.Listed {
				return nil, nil // every TestRun is listed too
			}
			objs, _, err := st.List(ctx, v1alpha1.KindTestRun)
			if err != nil {
				return nil, fmt.Errorf("list testruns: %w", err)
			}
			var reqs []controller.Request
			for _, obj := range objs {
				if tr := obj.(*v1alpha1.TestRun); tr.Spec.Recipe == rc.Name {
					reqs = append(reqs, controller.Request{Kind: v1alpha1.KindTestRun, Name: tr.Name})
				}
			}
			return reqs, nil
		}}
}

// collect runs a garbage collection pass every interval, the first one an interval after
// start: a serve started (or restarted) on a shared swarm first lets its controllers take up
// their runs and warm stacks, rather than judging the swarm before anything is reconciled. A
// failed pass is logged and tried again at the next tick: what it could not remove is still
// stale then.
func collect(ctx context.Context, o Options) error {
	c := warm.NewCollector(warm.CollectorOptions{Engine: o.Engine, Objects: o.Store, Policy: o.GC.Policy,
		MaxDeletions: o.GC.MaxDeletions, Now: o.Now})
	log := logr.FromContextOrDiscard(ctx).WithName("gc")
	ctx = logr.NewContext(ctx, log)
	tick := time.NewTicker(o.GC.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		r, err := c.Pass(ctx, false)
		if r != nil {
			for _, it := range r.Removed {
				o.Observer.Collected(it.Kind, false)
			}
			for _, f := range r.Failed {
				o.Observer.Collected(f.Item.Kind, true)
			}
			if o.GC.Report != nil {
				o.GC.Report(r)
			}
		}
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error(err, "gc pass failed, retried next pass", "interval", o.GC.Interval)
		case r != nil && len(r.Removed)+len(r.Deferred) > 0:
			log.Info("gc pass", "removed", len(r.Removed), "deferred", len(r.Deferred), "reported", len(r.Plan.Unmanaged))
		}
	}
}

// CheckRunner runs recipe checks with the one-shot services labelled per run.
func CheckRunner(engine deploy.Engine, now func() time.Time) reconcile.CheckRunner {
	return checkRunner{r: checks.New(checks.Options{Engine: engine, Now: now,
		Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}})}
}

type checkRunner struct{ r *checks.Runner }

func (c checkRunner) Run(ctx context.Context, stack string, ch v1alpha1.Check, labels map[string]string, m *mask.Masker) v1alpha1.CheckResult {
	return c.r.WithLabels(labels).Run(ctx, stack, ch, m)
}

// Engine connects to the Docker engine --docker-host names (or the environment's), with the
// API version negotiated.
func Engine(g *cli.Globals) (deploy.Engine, func(), error) {
	e, err := deploy.NewClient(g.DockerHost)
	if err != nil {
		return nil, nil, cli.Invalid(err)
	}
	return e, func() { _ = e.Close() }, nil
}

// Serve is serve's controllers over the served store: the TestRun controller (promoting the
// green runs of warm recipes), the Recipe controller that keeps each warm recipe's stack at
// its canonical version, the Repository controller of the pull request trigger, and garbage
// collection every gc.Interval, all reporting to serve's metrics, garbage collection to its
// status page too. flags, gc and forge are read when serve starts, after its flags are
// parsed.
func Serve(g *cli.Globals, flags *Flags, gc *GCOptions, forge *ForgeOptions) objcmd.Runner {
	return func(ctx context.Context, s objcmd.Served) error {
		p, err := flags.Policy()
		if err != nil {
			return err
		}
		engine, closeEngine, err := Engine(g)
		if err != nil {
			return err
		}
		defer closeEngine()
		gcOpts := *gc
		gcOpts.Report = s.GC.Record
		return Run(ctx, Options{Store: s.Store, Engine: engine, DataDir: g.DataDir, Flags: *flags, Warm: true,
			Promotion: true, GC: &gcOpts, Forge: forge, Policy: p, Metrics: s.Registry, Observer: s.Metrics})
	}
}
