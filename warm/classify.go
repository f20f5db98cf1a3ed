package warm

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/inventory"
)

// DefaultGrace is how long the stack of a finished run is left to its own teardown, and an
// orphaned run stack or unused object to settle, before garbage collection takes it.
const DefaultGrace = 15 * time.Minute

// KindStack is the kind of an Item that is a whole stack.
const KindStack = "stack"

// Policy tunes classification.
type Policy struct {
	// Grace before a run's leftovers are stale (see DefaultGrace; zero means the default).
	Grace time.Duration
	// AdoptWarm lets garbage collection remove unlabelled stacks named warm-<recipe> (or
	// warm-<recipe>_<domain>, abra's naming) whose Recipe exists and has no canonical record
	// (stacks of an older tool). A stack naming no existing Recipe is never adopted.
	AdoptWarm bool
	// WarmVolumes removes the volumes of stale warm stacks too. They are kept by default:
	// they hold a long-lived app's data.
	WarmVolumes bool
}

func (p Policy) grace() time.Duration {
	if p.Grace <= 0 {
		return DefaultGrace
	}
	return p.Grace
}

// Action says what garbage collection does with an Item.
type Action string

// Values of Action.
const (
	ActionRemove Action = "remove"
	ActionKeep   Action = "keep"
	ActionReport Action = "report"
)

// Item is one stack or loose object with what garbage collection does with it and why.
type Item struct {
	// Kind is KindStack or the inventory kind of a loose object (secret, config, network).
	Kind string `json:"kind"`
	Name string `json:"name"`
	// ID of a loose object; empty for stacks.
	ID string `json:"id,omitempty"`
	// Stack is the stack's name for a stack, empty for a loose object.
	Stack  string `json:"stack,omitempty"`
	Action Action `json:"action"`
	Why    string `json:"why"`
	// Owner is the TestRun or Recipe the labels name, where events about the item go.
	Owner v1alpha1.ObjectReference `json:"owner,omitzero"`
	// Volumes: removing the stack removes its volumes too.
	Volumes bool `json:"volumes,omitempty"`
	// Adopted marks an unlabelled warm-looking stack removed under Policy.AdoptWarm.
	Adopted bool `json:"adopted,omitempty"`
}

// Plan is the outcome of Classify.
type Plan struct {
	// Stale is what to remove, in removal order: stacks (each removed as deploy removes a
	// stack), then loose secrets, configs and networks.
	Stale []Item `json:"stale"`
	// Unmanaged is reported and never removed: unlabelled warm-looking stacks that are not
	// adopted, and stacks whose labels do not name one owner.
	Unmanaged []Item `json:"unmanaged"`
	// Kept are swarmrun's stacks and objects that are not stale, with the reason.
	Kept []Item `json:"kept"`
	// Ignored counts the stacks that carry no swarmrun label and do not look like warm
	// stacks: none of swarmrun's business.
	Ignored int `json:"ignored"`
}

// ClassifyInput is everything Classify looks at.
type ClassifyInput struct {
	Inventory *inventory.Inventory
	Recipes   []*v1alpha1.Recipe
	TestRuns  []*v1alpha1.TestRun
	Policy    Policy
	Now       time.Time
}

// Classify decides what in the inventory is stale. It is a pure function of its input.
//
// Only swarmrun's labels make something swarmrun's. A stack every service, network, secret
// and config of which carries swarmrun.dev/managed-by=swarmrun and one owner label is:
//
//   - a run stack (swarmrun.dev/testrun=<run>): stale when its TestRun does not exist, or
//     has been deleting, or finished with its teardown pending, for longer than the grace
//     period; removed with its volumes;
//   - a warm stack (swarmrun.dev/warm=<recipe>): stale when its Recipe does not exist, is
//     being deleted, is not warm or has no canonical record; removed keeping its volumes
//     unless Policy.WarmVolumes.
//
// A loose managed secret, config or network is stale when no service outside the stacks
// being removed uses it and its owner is gone as above (one naming no owner: after the grace
// period). A stack with no swarmrun label is left alone, except one named warm-<recipe> or,
// as abra names apps, warm-<recipe>_<domain>: reported, and removed (keeping volumes) only
// under Policy.AdoptWarm when the Recipe exists and has no canonical record. A stack whose
// labels are mixed is reported and never removed.
func Classify(in ClassifyInput) Plan {
	c := classifier{in: in, grace: in.Policy.grace(),
		recipes: map[string]*v1alpha1.Recipe{}, runs: map[string]*v1alpha1.TestRun{}}
	for _, r := range in.Recipes {
		c.recipes[r.Name] = r
	}
	for _, r := range in.TestRuns {
		c.runs[r.Name] = r
	}
	// Empty lists, not nil: a JSON report says [] for "nothing".
	p := Plan{Stale: []Item{}, Unmanaged: []Item{}, Kept: []Item{}}
	if in.Inventory == nil {
		return p
	}
	removed := map[string]bool{} // services of stacks being removed
	for _, name := range in.Inventory.StackNames() {
		st := in.Inventory.Stacks[name]
		it, ok := c.stack(st)
		if !ok {
			p.Ignored++
			continue
		}
		switch it.Action {
		case ActionRemove:
			p.Stale = append(p.Stale, it)
			for _, s := range st.Services {
				removed[s.Name] = true
			}
		case ActionReport:
			p.Unmanaged = append(p.Unmanaged, it)
		default:
			p.Kept = append(p.Kept, it)
		}
	}
	var loose []Item
	for _, o := range in.Inventory.Loose {
		it, ok := c.loose(o, removed)
		if !ok {
			continue
		}
		switch it.Action {
		case ActionRemove:
			loose = append(loose, it)
		case ActionReport:
			p.Unmanaged = append(p.Unmanaged, it)
		default:
			p.Kept = append(p.Kept, it)
		}
	}
	slices.SortStableFunc(loose, func(a, b Item) int { return cmp.Compare(removalOrder(a.Kind), removalOrder(b.Kind)) })
	p.Stale = append(p.Stale, loose...)
	return p
}

// removalOrder is deploy's: secrets, configs, then networks.
func removalOrder(kind string) int {
	switch kind {
	case inventory.KindSecret:
		return 0
	case inventory.KindConfig:
		return 1
	}
	return 2
}

type classifier struct {
	in      ClassifyInput
	grace   time.Duration
	recipes map[string]*v1alpha1.Recipe
	runs    map[string]*v1alpha1.TestRun
}

// stack classifies one stack; ok is false for a stack that is none of swarmrun's business.
func (c *classifier) stack(st *inventory.Stack) (Item, bool) {
	own := inventory.StackOwner(st)
	it := Item{Kind: KindStack, Name: st.Name, Stack: st.Name, Owner: own.Owner()}
	switch {
	case !own.Live && !own.Managed && own.Conflict == "":
		// Only volumes, which the engine created without swarmrun's labels: nothing proves
		// whose they are, and removing a stack keeps volumes unless it is swarmrun's.
		return Item{}, false
	case own.Conflict != "":
		it.Action, it.Why = ActionReport, "ownership unclear: "+own.Conflict
		return it, true
	case !own.Managed:
		return c.unlabelled(st, it)
	case own.TestRun != "":
		stale, why := c.runVerdict(own.TestRun, st.LastChange())
		it.Action, it.Why, it.Volumes = verdict(stale), why, true
	default:
		stale, why := warmVerdict(c.recipes[own.Warm], own.Warm)
		it.Action, it.Why, it.Volumes = verdict(stale), why, c.in.Policy.WarmVolumes
	}
	if it.Action == ActionRemove && !own.Live && !it.Volumes {
		// A removal that keeps volumes would remove nothing, pass after pass.
		it.Action, it.Why = ActionKeep, "only volumes left, kept: "+it.Why
	}
	return it, true
}

// unlabelled applies the adoption rule to a stack without swarmrun's labels: only a
// warm-looking stack can be adopted, only for a Recipe that exists, and only when that
// Recipe has no canonical record (one that has keeps whatever stack carries its name).
func (c *classifier) unlabelled(st *inventory.Stack, it Item) (Item, bool) {
	name, ok := warmRecipe(st.Name)
	if !ok {
		return Item{}, false
	}
	rc := c.recipes[name]
	it.Action = ActionReport
	switch {
	case rc == nil:
		it.Why = fmt.Sprintf("unlabelled warm-looking stack; no Recipe %s exists, so it is not adopted", name)
		return it, true
	case rc.Status.Canonical != nil:
		it.Why = fmt.Sprintf("unlabelled warm-looking stack; recipe %s has canonical %s, so it is not adopted", name, rc.Status.Canonical.Version)
	case !c.in.Policy.AdoptWarm:
		it.Why = fmt.Sprintf("unlabelled warm-looking stack; recipe %s has no canonical record (adopt with --adopt-warm)", name)
	default:
		it.Action, it.Adopted = ActionRemove, true
		it.Why = fmt.Sprintf("unlabelled warm-looking stack adopted; recipe %s has no canonical record", name)
	}
	it.Owner = v1alpha1.ObjectReference{Kind: v1alpha1.KindRecipe, Name: name}
	return it, true
}

// warmRecipe returns the recipe a warm-looking stack name stands for: warm-<recipe>, or the
// name abra gives an app, <recipe>_<domain with dots as underscores>, after warm- (the
// warm stack of recipe keycloak on example.org is warm-keycloak_example_org). A Recipe's
// name is a DNS label, so it never holds an underscore.
func warmRecipe(stack string) (string, bool) {
	name, ok := WarmLooking(stack)
	if !ok {
		return "", false
	}
	if recipe, _, abra := strings.Cut(name, "_"); abra {
		return recipe, recipe != ""
	}
	return name, true
}

// loose classifies an object outside any stack; ok is false for one that is not swarmrun's
// or not a kind garbage collection removes.
func (c *classifier) loose(o inventory.Object, removed map[string]bool) (Item, bool) {
	switch o.Kind {
	case inventory.KindSecret, inventory.KindConfig, inventory.KindNetwork:
	default:
		return Item{}, false
	}
	if o.Predefined || !inventory.IsManaged(o.Labels) {
		return Item{}, false
	}
	own := inventory.ObjectOwner(o.Labels)
	it := Item{Kind: o.Kind, Name: o.Name, ID: o.ID, Owner: own.Owner()}
	if own.Conflict != "" {
		it.Action, it.Why = ActionReport, "ownership unclear: "+own.Conflict
		return it, true
	}
	var users []string
	for _, u := range o.UsedBy {
		if !removed[u] {
			users = append(users, u)
		}
	}
	if len(users) > 0 {
		it.Action, it.Why = ActionKeep, fmt.Sprintf("used by %s", inventory.FirstFew(users))
		return it, true
	}
	last := o.CreatedAt
	if o.UpdatedAt.After(last) {
		last = o.UpdatedAt
	}
	var stale bool
	switch {
	case own.TestRun != "":
		stale, it.Why = c.runVerdict(own.TestRun, last)
	case own.Warm != "":
		stale, it.Why = warmVerdict(c.recipes[own.Warm], own.Warm)
	default:
		age := c.age(last)
		stale = age >= c.grace
		it.Why = fmt.Sprintf("unused and names no owner, unchanged for %s (grace %s)", round(age), c.grace)
	}
	it.Action = verdict(stale)
	if stale {
		it.Why = "unused; " + it.Why
	}
	return it, true
}

// runVerdict says whether what run owns, unchanged since last, is stale.
func (c *classifier) runVerdict(name string, last time.Time) (bool, string) {
	tr := c.runs[name]
	if tr == nil {
		age := c.age(last)
		if age >= c.grace {
			return true, fmt.Sprintf("TestRun %s no longer exists (unchanged for %s, grace %s)", name, round(age), c.grace)
		}
		return false, fmt.Sprintf("TestRun %s not found; stale after grace %s (unchanged for %s)", name, c.grace, round(age))
	}
	if tr.DeletionTimestamp != nil {
		age := c.age(*tr.DeletionTimestamp)
		if age >= c.grace {
			return true, fmt.Sprintf("TestRun %s has been deleting for %s: its teardown did not finish", name, round(age))
		}
		return false, fmt.Sprintf("TestRun %s is being deleted; its teardown runs", name)
	}
	done := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionSucceeded)
	if done == nil || done.Status == v1alpha1.ConditionUnknown {
		return false, fmt.Sprintf("TestRun %s is running", name)
	}
	policy := tr.Spec.Teardown
	if policy == "" {
		policy = v1alpha1.TeardownAlways
	}
	pending := policy == v1alpha1.TeardownAlways || policy == v1alpha1.TeardownOnSuccess && done.Status == v1alpha1.ConditionTrue
	if !pending {
		return false, fmt.Sprintf("TestRun %s finished; teardown %s keeps its stack", name, policy)
	}
	finished := done.LastTransitionTime.Time
	if tr.Status.CompletedAt != nil {
		finished = tr.Status.CompletedAt.Time
	}
	age := c.age(finished)
	if age >= c.grace {
		return true, fmt.Sprintf("TestRun %s finished %s ago; teardown %s pending past grace %s", name, round(age), policy, c.grace)
	}
	return false, fmt.Sprintf("TestRun %s finished; its teardown has until grace %s", name, c.grace)
}

// warmVerdict says whether what a recipe's warm stack owns is stale.
func warmVerdict(rc *v1alpha1.Recipe, name string) (bool, string) {
	switch {
	case rc == nil:
		return true, fmt.Sprintf("Recipe %s no longer exists", name)
	case rc.DeletionTimestamp != nil:
		return true, fmt.Sprintf("Recipe %s is being deleted", name)
	case !rc.Spec.Warm:
		return true, fmt.Sprintf("Recipe %s is not warm", name)
	case rc.Status.Canonical == nil:
		return true, fmt.Sprintf("Recipe %s has no canonical record", name)
	}
	return false, fmt.Sprintf("warm stack of Recipe %s (canonical %s)", name, rc.Status.Canonical.Version)
}

// age is how long ago t was; an unknown time (zero) is older than any grace period.
func (c *classifier) age(t time.Time) time.Duration {
	if t.IsZero() {
		return unknownAge
	}
	return c.in.Now.Sub(t)
}

func verdict(stale bool) Action {
	if stale {
		return ActionRemove
	}
	return ActionKeep
}

// unknownAge is the age of something whose time the engine did not give.
const unknownAge = time.Duration(1<<63 - 1)

// round prints an age to the second.
func round(d time.Duration) string {
	if d == unknownAge {
		return "an unknown time"
	}
	return d.Round(time.Second).String()
}
