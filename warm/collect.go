package warm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/inventory"
)

// DefaultMaxDeletions caps the stacks and objects one pass removes, so that a wrong
// classification (a store restored from an old backup, say) cannot empty a swarm in one go.
const DefaultMaxDeletions = 20

// CollectorOptions configure a Collector.
type CollectorOptions struct {
	// Engine is the Docker engine. Required.
	Engine deploy.Engine
	// Deployer removes stacks (default: deploy.New over Engine).
	Deployer *deploy.Deployer
	// Objects reads Recipes and TestRuns and records events. Required.
	Objects Reader
	Policy  Policy
	// MaxDeletions caps removals per pass (default DefaultMaxDeletions); the rest wait for the
	// next pass.
	MaxDeletions int
	// Scope, when set, limits a pass to the stacks and loose objects whose name it accepts,
	// as if nothing else existed. Tests use it to keep a pass to their own objects on a
	// shared swarm; an operator may use it to collect one family of stacks.
	Scope func(name string) bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Collector runs garbage collection passes.
type Collector struct {
	o CollectorOptions
}

// NewCollector returns a Collector with the defaults filled in.
func NewCollector(o CollectorOptions) *Collector {
	if o.Deployer == nil {
		o.Deployer = deploy.New(deploy.Options{Engine: o.Engine})
	}
	if o.MaxDeletions <= 0 {
		o.MaxDeletions = DefaultMaxDeletions
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Collector{o: o}
}

// Failure is a removal that failed; it is tried again on the next pass.
type Failure struct {
	Item  Item   `json:"item"`
	Error string `json:"error"`
}

// Report is the outcome of one pass.
type Report struct {
	DryRun bool `json:"dryRun"`
	Plan   Plan `json:"plan"`
	// Removed, Deferred (over the cap, left for the next pass) and Failed split Plan.Stale
	// when the pass was not a dry run.
	Removed  []Item    `json:"removed"`
	Deferred []Item    `json:"deferred"`
	Failed   []Failure `json:"failed"`
}

// Pass lists the swarm, then the Recipes and TestRuns, classifies and, unless dryRun,
// removes at most MaxDeletions stale items in the plan's order, each with an event on its
// owner (when it still exists) and a log line. Removal failures do not stop the pass; they
// are in the report and in the returned error, and the next pass tries again.
//
// The swarm is listed before the objects on purpose: a stack in the listing was deployed by a
// TestRun created before it, so a TestRun missing from the later object listing was really
// deleted, not created a moment too late to be seen.
func (c *Collector) Pass(ctx context.Context, dryRun bool) (*Report, error) {
	log := logr.FromContextOrDiscard(ctx)
	inv, err := inventory.List(ctx, c.o.Engine)
	if err != nil {
		return nil, fmt.Errorf("gc pass: %w", err)
	}
	recipes, err := listRecipes(ctx, c.o.Objects)
	if err != nil {
		return nil, fmt.Errorf("gc pass: %w", err)
	}
	runs, err := listTestRuns(ctx, c.o.Objects)
	if err != nil {
		return nil, fmt.Errorf("gc pass: %w", err)
	}
	if c.o.Scope != nil {
		inv = scope(inv, c.o.Scope)
	}
	plan := Classify(ClassifyInput{Inventory: inv, Recipes: recipes, TestRuns: runs, Policy: c.o.Policy, Now: c.o.Now()})
	r := &Report{DryRun: dryRun, Plan: plan, Removed: []Item{}, Deferred: []Item{}, Failed: []Failure{}}
	if dryRun {
		return r, nil
	}
	var errs []error
	for i, it := range plan.Stale {
		if i >= c.o.MaxDeletions {
			r.Deferred = append(r.Deferred, plan.Stale[i:]...)
			log.Info("gc deletion cap reached, the rest waits for the next pass", "cap", c.o.MaxDeletions, "deferred", len(r.Deferred))
			break
		}
		if err := c.remove(ctx, it, inv); err != nil {
			r.Failed = append(r.Failed, Failure{Item: it, Error: err.Error()})
			errs = append(errs, err)
			log.Error(err, "gc removal failed, retried next pass", "kind", it.Kind, "name", it.Name)
			event(ctx, c.o.Objects, it.Owner, v1alpha1.EventWarning, v1alpha1.ReasonGarbageCollected,
				fmt.Sprintf("removing stale %s %s failed: %v", it.Kind, it.Name, err))
			continue
		}
		r.Removed = append(r.Removed, it)
		log.Info("gc removed", "kind", it.Kind, "name", it.Name, "why", it.Why)
		event(ctx, c.o.Objects, it.Owner, v1alpha1.EventNormal, v1alpha1.ReasonGarbageCollected,
			fmt.Sprintf("removed stale %s %s: %s", it.Kind, it.Name, it.Why))
	}
	if len(errs) > 0 {
		return r, fmt.Errorf("gc pass: %d of %d removals failed: %w", len(errs), len(r.Removed)+len(errs), errors.Join(errs...))
	}
	return r, nil
}

func (c *Collector) remove(ctx context.Context, it Item, inv *inventory.Inventory) error {
	if it.Kind == KindStack {
		if err := c.recheck(ctx, it); err != nil {
			return err
		}
		_, err := inventory.RemoveStack(ctx, c.o.Deployer, it.Stack, it.Volumes)
		return err
	}
	for _, o := range inv.Loose {
		if o.Kind == it.Kind && o.ID == it.ID {
			return inventory.RemoveObject(ctx, c.o.Engine, o)
		}
	}
	return fmt.Errorf("%s %s is not in the inventory", it.Kind, it.Name)
}

// scope keeps the stacks and loose objects whose name keep accepts.
func scope(inv *inventory.Inventory, keep func(string) bool) *inventory.Inventory {
	out := &inventory.Inventory{Stacks: map[string]*inventory.Stack{}}
	for name, st := range inv.Stacks {
		if keep(name) {
			out.Stacks[name] = st
		}
	}
	for _, o := range inv.Loose {
		if keep(o.Name) {
			out.Loose = append(out.Loose, o)
		}
	}
	return out
}

// errOwnershipChanged: a stack's labels changed between the listing and its removal.
var errOwnershipChanged = errors.New("ownership changed since the listing")

// recheck reads the stack again right before removing it: deploy removes every object with
// the stack's namespace label, so an object someone else deployed into the namespace since
// the listing would go too. The stack must still be exactly what was classified.
func (c *Collector) recheck(ctx context.Context, it Item) error {
	st, err := inventory.ListStack(ctx, c.o.Engine, it.Stack)
	if err != nil {
		return err
	}
	own := inventory.StackOwner(st)
	switch {
	case it.Adopted && (own.Managed || own.Conflict != ""):
		return fmt.Errorf("stack %s: %w (no longer unlabelled)", it.Stack, errOwnershipChanged)
	case !it.Adopted && (!own.Managed || own.Conflict != "" || own.Owner() != it.Owner):
		why := own.Conflict
		if why == "" {
			why = fmt.Sprintf("owner now %s %q", own.Owner().Kind, own.Owner().Name)
		}
		return fmt.Errorf("stack %s: %w: %s", it.Stack, errOwnershipChanged, why)
	}
	return nil
}
