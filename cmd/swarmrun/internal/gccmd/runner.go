package gccmd

import (
	"context"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/objcmd"
	"github.com/swarmrun/swarmrun/warm"
)

// DefaultInterval is how often serve runs a garbage collection pass.
const DefaultInterval = 5 * time.Minute

// RunnerOptions configure the periodic pass of serve.
type RunnerOptions struct {
	// Interval between passes; zero or less turns periodic collection off.
	Interval time.Duration
	Policy   warm.Policy
	// MaxDeletions per pass (default warm.DefaultMaxDeletions).
	MaxDeletions int
	// Engine connects to the Docker engine (default: the one --docker-host names).
	Engine EngineFunc
	// Now is the clock of staleness (default time.Now).
	Now func() time.Time
}

// BindServeFlags registers serve's garbage collection flags on f, filling o.
func BindServeFlags(f *pflag.FlagSet, o *RunnerOptions) {
	f.DurationVar(&o.Interval, "gc-interval", DefaultInterval, "how often to collect stale stacks and objects (0 turns it off)")
	f.DurationVar(&o.Policy.Grace, "gc-grace", warm.DefaultGrace, "grace period before a finished or orphaned run's stack is stale")
	f.BoolVar(&o.Policy.AdoptWarm, "gc-adopt-warm", false, "remove unlabelled warm-<recipe> stacks whose recipe has no canonical record")
	f.IntVar(&o.MaxDeletions, "gc-max-deletions", warm.DefaultMaxDeletions, "removals per garbage collection pass")
}

// Runner returns serve's periodic garbage collection over the served store: a pass every
// Interval, the first one an Interval after start, until ctx ends. No pass runs at start: a
// serve started (or restarted) on a shared swarm first lets its controllers take up their
// runs and warm stacks, rather than judging the swarm before anything is reconciled. A failed pass is logged and tried again at the
// next tick: what it could not remove is still stale then. Only a missing engine stops it.
// opts is read when serve starts, after its flags (BindServeFlags) are parsed.
func Runner(g *cli.Globals, opts *RunnerOptions) objcmd.Runner {
	return func(ctx context.Context, st *store.Store) error {
		o := *opts
		if o.Interval <= 0 {
			return nil
		}
		engine := o.Engine
		if engine == nil {
			engine = dockerEngine
		}
		e, closeEngine, err := engine(g)
		if err != nil {
			return err
		}
		defer closeEngine()
		c := warm.NewCollector(warm.CollectorOptions{Engine: e, Objects: st, Policy: o.Policy, MaxDeletions: o.MaxDeletions, Now: o.Now})
		log := logr.FromContextOrDiscard(ctx).WithName("gc")
		ctx = logr.NewContext(ctx, log)
		tick := time.NewTicker(o.Interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			r, err := c.Pass(ctx, false)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Error(err, "gc pass failed, retried next pass", "interval", o.Interval)
			case r != nil && len(r.Removed)+len(r.Deferred) > 0:
				log.Info("gc pass", "removed", len(r.Removed), "deferred", len(r.Deferred), "reported", len(r.Plan.Unmanaged))
			}
		}
	}
}
