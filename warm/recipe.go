package warm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/internal/mask"
)

// RecipeOptions configure a RecipeReconciler.
type RecipeOptions struct {
	// Objects is the store or API client. Required.
	Objects Objects
	// Stacks is the deploy pipeline the warm stacks deploy through, as runs do. Required.
	Stacks *stack.Pipeline
	// DataDir holds the warm stacks' deploy directories (<DataDir>/warm/<recipe>/<version>).
	// Required.
	DataDir string
	// RemoveVolumes removes a warm stack's volumes with it when the recipe stops being warm
	// or is deleted. Off by default: the volumes hold the app's data.
	RemoveVolumes bool
	// Now is the clock of condition times (default time.Now).
	Now func() time.Time
	// Observer, when set, is told what warm stacks did (convergence times, prunes), for
	// metrics.
	Observer Observer
}

// RecipeReconciler keeps each Recipe's warm stack at its canonical version, one step per
// call: it applies the canonical version and records the deploy, looks at its convergence
// until it converged, prunes what the version dropped and reports it ready; it removes the
// stack when the recipe stops being warm, loses its record or is deleted (holding the Recipe
// with a finalizer until the stack is gone). It reports status.warmStack and the WarmReady
// condition, and removes only a stack whose labels name the recipe's warm stack; a stack of
// that name without them is reported, not touched.
type RecipeReconciler struct {
	o RecipeOptions
}

var _ controller.Reconciler = (*RecipeReconciler)(nil)

// NewRecipeReconciler returns a RecipeReconciler with the defaults filled in.
func NewRecipeReconciler(o RecipeOptions) (*RecipeReconciler, error) {
	if o.Objects == nil || o.Stacks == nil || o.DataDir == "" {
		return nil, errors.New("recipe reconciler: objects, stacks and data dir are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	return &RecipeReconciler{o: o}, nil
}

// Reconcile takes one step towards the warm stack the Recipe req names should have.
func (r *RecipeReconciler) Reconcile(ctx context.Context, req controller.Request) (controller.Result, error) {
	name := req.Name
	stackName := StackName(name)
	log := logr.FromContextOrDiscard(ctx).WithValues("recipe", name, "stack", stackName)
	ctx = logr.NewContext(ctx, log)

	rc := &v1alpha1.Recipe{}
	err := r.o.Objects.Get(ctx, name, rc)
	if errors.Is(err, store.ErrNotFound) {
		// Nothing to do. A Recipe deploys its stack only once its finalizer is set, and the
		// finalizer holds it until the stack is gone; a key with no Recipe is one that is
		// gone already, or an event of a warm stack that another swarmrun (another store)
		// owns on this swarm. A stack left by a Recipe removed behind swarmrun's back is the
		// garbage collector's, after its grace period.
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, fmt.Errorf("reconcile recipe %s: %w", name, err)
	}

	switch {
	case rc.DeletionTimestamp != nil:
		if _, res, err := r.removeOwned(ctx, name); err != nil || !res.IsZero() {
			return res, err
		}
		return controller.Result{}, r.setFinalizer(ctx, rc, false)
	case !rc.Spec.Warm:
		return r.retire(ctx, rc, v1alpha1.ReasonNotEnrolled, fmt.Sprintf("recipe %s is not warm", name))
	case rc.Status.Canonical == nil:
		return r.retire(ctx, rc, v1alpha1.ReasonNoCanonical, fmt.Sprintf("no run of %s has been promoted yet", name))
	}
	if err := r.setFinalizer(ctx, rc, true); err != nil {
		return controller.Result{}, err
	}
	return r.converge(ctx, rc)
}

// converge takes the next step towards the canonical version: apply it, look at its
// convergence, or prune and report it ready. A stack that already runs it is left alone.
func (r *RecipeReconciler) converge(ctx context.Context, rc *v1alpha1.Recipe) (controller.Result, error) {
	c := rc.Status.Canonical
	name := StackName(rc.Name)
	own, exists, err := r.o.Stacks.Owner(ctx, name)
	if err != nil {
		return controller.Result{}, fmt.Errorf("reconcile recipe %s: %w", rc.Name, err)
	}
	// Volumes alone are what an earlier removal kept on purpose: deploying over them is how
	// they are kept across versions.
	if exists && own.Live && (!own.Managed || own.Warm != rc.Name) {
		why := fmt.Sprintf("stack %s exists but is not labelled as the warm stack of %s", name, rc.Name)
		if own.Conflict != "" {
			why += ": " + own.Conflict
		}
		r.setStatus(rc, &v1alpha1.WarmStack{Name: name}, v1alpha1.ConditionFalse, v1alpha1.ReasonStackNotOwned, why)
		if err := r.writeStatus(ctx, rc); err != nil {
			return controller.Result{}, err
		}
		// No retry helps until an operator removes or relabels the stack; its removal or the
		// next resync brings the recipe back.
		return controller.Result{}, controller.Terminal(fmt.Errorf("reconcile recipe %s: %s", rc.Name, why))
	}
	ws := rc.Status.WarmStack
	current := ws != nil && ws.Version == c.Version && ws.Commit == c.Commit && ws.Deploy != nil
	switch {
	case current && ws.Ready && own.Live:
		return controller.Result{}, nil
	case current && !ws.Ready && ws.Deploy.ConvergedAt == nil:
		return r.look(ctx, rc)
	case current && !ws.Ready:
		return r.ready(ctx, rc)
	}
	return r.apply(ctx, rc)
}

// apply deploys the canonical version and records the deploy, without waiting. The
// canonical must name a release tag of the recipe at its commit: a record that names
// anything else (it is status, which only swarmrun writes, but its content decides what is
// deployed and where files are written) is refused.
func (r *RecipeReconciler) apply(ctx context.Context, rc *v1alpha1.Recipe) (controller.Result, error) {
	c := rc.Status.Canonical
	name := StackName(rc.Name)
	log := logr.FromContextOrDiscard(ctx).WithValues("version", c.Version, "commit", short(c.Commit))
	m := mask.New()
	src, err := r.canonicalSource(ctx, rc)
	if err != nil {
		return r.deployFailed(ctx, rc, m, err)
	}
	pr, err := r.prepare(ctx, rc, src, m)
	if err != nil {
		return r.deployFailed(ctx, rc, m, err)
	}
	a, err := r.o.Stacks.Apply(ctx, pr)
	if err != nil {
		return r.deployFailed(ctx, rc, m, err)
	}
	rec := pr.Record(a, c.Commit)
	log.Info("warm stack applied", "created", len(a.Created), "updated", len(a.Updated), "unchanged", len(a.Unchanged))
	r.setStatus(rc, &v1alpha1.WarmStack{Name: name, Version: c.Version, Commit: c.Commit, Deploy: &rec},
		v1alpha1.ConditionFalse, v1alpha1.ReasonProgressing, fmt.Sprintf("%s applied, converging to %s", name, c.Version))
	return controller.Result{Requeue: true}, r.writeStatus(ctx, rc)
}

// look takes one look at the warm stack's deploy (stack.Pipeline.LookAt).
func (r *RecipeReconciler) look(ctx context.Context, rc *v1alpha1.Recipe) (controller.Result, error) {
	ws := rc.Status.WarmStack
	l, err := r.o.Stacks.LookAt(ctx, ws.Deploy, rc.Spec.DeployTimeout(), r.o.Now())
	if err != nil {
		return controller.Result{}, fmt.Errorf("reconcile recipe %s: %w", rc.Name, err)
	}
	if l.Err != nil {
		return r.deployFailed(ctx, rc, mask.New(), fmt.Errorf("wait: %w", l.Err))
	}
	if l.Changed {
		if err := r.writeStatus(ctx, rc); err != nil {
			return controller.Result{}, err
		}
	}
	if !l.Done {
		return controller.Result{RequeueAfter: l.Again}, nil
	}
	r.o.Observer.DeployConverged(v1alpha1.RoleWarm, ws.Deploy.ConvergedAt.Sub(ws.Deploy.StartedAt.Time))
	return controller.Result{Requeue: true}, nil
}

// ready prunes the services the version dropped from the converged stack and reports it
// ready. Volumes are never removed.
func (r *RecipeReconciler) ready(ctx context.Context, rc *v1alpha1.Recipe) (controller.Result, error) {
	c := rc.Status.Canonical
	name := StackName(rc.Name)
	m := mask.New()
	src, err := r.o.Stacks.Open(ctx, rc.Spec.Source.URL)
	if err != nil {
		return r.deployFailed(ctx, rc, m, err)
	}
	pr, err := r.prepare(ctx, rc, src, m)
	if err != nil {
		return r.deployFailed(ctx, rc, m, err)
	}
	pruned, err := r.o.Stacks.Prune(ctx, name, pr, nil)
	if err != nil {
		return controller.Result{}, fmt.Errorf("reconcile recipe %s: %w", rc.Name, err)
	}
	r.o.Observer.ServicesPruned(v1alpha1.RoleWarm, len(pruned))
	log := logr.FromContextOrDiscard(ctx)
	if len(pruned) > 0 {
		log.Info("warm stack pruned", "services", pruned)
	}
	r.dropDir(ctx, rc)
	ws := *rc.Status.WarmStack
	ws.Ready = true
	r.setStatus(rc, &ws, v1alpha1.ConditionTrue, v1alpha1.ReasonConverged, fmt.Sprintf("%s runs %s at %s", name, c.Version, short(c.Commit)))
	log.Info("warm stack converged", "version", c.Version)
	// A canonical written meanwhile makes this write conflict: the controller retries, and
	// the retry deploys the newer record.
	return controller.Result{}, r.writeStatus(ctx, rc)
}

// canonicalSource opens the recipe's source and checks that the canonical names one of its
// release tags at the recorded commit. The commit was resolved by a run, maybe in another
// process: the mirror may predate it, so it is fetched first.
func (r *RecipeReconciler) canonicalSource(ctx context.Context, rc *v1alpha1.Recipe) (*stack.Source, error) {
	c := rc.Status.Canonical
	if !stack.IsReleaseTag(c.Version) {
		return nil, &invalidCanonical{fmt.Errorf("canonical version %q is not a release tag", c.Version)}
	}
	src, err := r.o.Stacks.Open(ctx, rc.Spec.Source.URL)
	if err != nil {
		return nil, err
	}
	if err := src.Fetch(ctx); err != nil {
		return nil, err
	}
	published, err := src.Versions(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(published, func(v stack.Version) bool { return v.Tag == c.Version && v.Commit == c.Commit }) {
		return nil, &invalidCanonical{fmt.Errorf("canonical %s at %s is not a release tag of the recipe at that commit", c.Version, short(c.Commit))}
	}
	return src, nil
}

// invalidCanonical is a canonical record that names no release of the recipe.
type invalidCanonical struct{ err error }

func (e *invalidCanonical) Error() string { return e.err.Error() }
func (e *invalidCanonical) Unwrap() error { return e.err }

// prepare renders the canonical version for warm-<recipe> (stack.Pipeline.Prepare): the
// recipe's files and env, the Recipe's env, overlays and image overrides, STACK_NAME and DOMAIN of the stack,
// and the app labels of a version deploy; previous (a base-only repair) and any run's env
// never apply. Generated secrets derive from the stack's name, so that every version of one
// warm stack gets the same values and its kept volumes stay readable. Every object carries
// managed-by, warm=<recipe> and role=warm.
func (r *RecipeReconciler) prepare(ctx context.Context, rc *v1alpha1.Recipe, src *stack.Source, m *mask.Masker) (*stack.Prepared, error) {
	c := rc.Status.Canonical
	name := StackName(rc.Name)
	return r.o.Stacks.Prepare(ctx, stack.Request{
		Role:       v1alpha1.RoleWarm,
		Stack:      name,
		Source:     src,
		Commit:     c.Commit,
		Dir:        r.dir(rc),
		Env:        []map[string]string{rc.Spec.Env},
		Overlays:   raw(rc.Spec.Overlays),
		Images:     [][]v1alpha1.ImageOverride{rc.Spec.Images},
		App:        stack.AppDeploy{Stack: name, Recipe: rc.Name, Commit: c.Commit, Version: c.Version},
		SecretSeed: "warm\x00" + name,
		Labels:     Ownership(rc.Name),
		Recipe:     rc.Name,
		SourceURL:  rc.Spec.Source.URL,
		// canonicalSource checked that the version is a release tag at this commit.
		Published: true,
	}, m)
}

// dir is the deploy directory of the recipe's warm stack. The canonical's version is a
// checked release tag, and only its characters that are safe in a file name are kept.
func (r *RecipeReconciler) dir(rc *v1alpha1.Recipe) string {
	safe := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '+' || c == '-' {
			return c
		}
		return '_'
	}, rc.Status.Canonical.Version)
	return filepath.Join(r.o.DataDir, "warm", rc.Name, safe)
}

func (r *RecipeReconciler) dropDir(ctx context.Context, rc *v1alpha1.Recipe) {
	if err := os.RemoveAll(filepath.Join(r.o.DataDir, "warm", rc.Name)); err != nil {
		logr.FromContextOrDiscard(ctx).Error(err, "warm deploy directory not removed")
	}
}

// deployFailed reports a failed deploy of the warm stack in its status, masked, and returns
// the error for the controller to retry with backoff, from a fresh apply; a canonical that
// names no release is final until the record changes.
func (r *RecipeReconciler) deployFailed(ctx context.Context, rc *v1alpha1.Recipe, m *mask.Masker, err error) (controller.Result, error) {
	c := rc.Status.Canonical
	name := StackName(rc.Name)
	msg := m.String(fmt.Sprintf("deploy %s of %s: %v", c.Version, name, err))
	reason := v1alpha1.ReasonDeployFailed
	var ic *invalidCanonical
	if errors.As(err, &ic) {
		reason = v1alpha1.ReasonInvalidCanonical
	}
	r.setStatus(rc, &v1alpha1.WarmStack{Name: name, Version: c.Version, Commit: c.Commit}, v1alpha1.ConditionFalse, reason, msg)
	if werr := r.writeStatus(ctx, rc); werr != nil {
		return controller.Result{}, errors.Join(errors.New(msg), werr)
	}
	if ic != nil {
		return controller.Result{}, controller.Terminal(errors.New(msg))
	}
	return controller.Result{}, errors.New(msg)
}

// retire removes the warm stack of a recipe that should have none, and says why.
func (r *RecipeReconciler) retire(ctx context.Context, rc *v1alpha1.Recipe, reason, message string) (controller.Result, error) {
	removed, res, err := r.removeOwned(ctx, rc.Name)
	if err != nil || !res.IsZero() {
		return res, err
	}
	if reason == v1alpha1.ReasonNotEnrolled && !removed && rc.Status.WarmStack == nil && apimeta.FindStatusCondition(rc.Status.Conditions, v1alpha1.ConditionWarmReady) == nil &&
		!rc.HasFinalizer(v1alpha1.FinalizerTeardown) {
		return controller.Result{}, nil // never was warm: nothing to say
	}
	if removed {
		event(ctx, r.o.Objects, v1alpha1.ObjectReference{Kind: v1alpha1.KindRecipe, Name: rc.Name, UID: rc.UID},
			v1alpha1.EventNormal, v1alpha1.ReasonWarmStackRemoved, fmt.Sprintf("removed %s: %s", StackName(rc.Name), message))
	}
	if err := r.setFinalizer(ctx, rc, false); err != nil {
		return controller.Result{}, err
	}
	if c := apimeta.FindStatusCondition(rc.Status.Conditions, v1alpha1.ConditionWarmReady); c != nil && c.Reason == reason &&
		rc.Status.WarmStack == nil {
		return controller.Result{}, nil
	}
	r.setStatus(rc, nil, v1alpha1.ConditionFalse, reason, message)
	return controller.Result{}, r.writeStatus(ctx, rc)
}

// removeOwned takes one step of removing the recipe's warm stack if its labels say it is
// one; removed says the stack is now gone after having been there, and a non-zero result
// asks for the next step.
func (r *RecipeReconciler) removeOwned(ctx context.Context, recipe string) (bool, controller.Result, error) {
	name := StackName(recipe)
	own, exists, err := r.o.Stacks.Owner(ctx, name)
	if err != nil {
		return false, controller.Result{}, fmt.Errorf("reconcile recipe %s: %w", recipe, err)
	}
	if !exists {
		return false, controller.Result{}, nil
	}
	if !own.Live && !r.o.RemoveVolumes {
		return false, controller.Result{}, nil // only the kept volumes are left
	}
	if !own.Managed || own.Warm != recipe {
		logr.FromContextOrDiscard(ctx).Info("stack of the warm stack's name is not swarmrun's, left alone")
		return false, controller.Result{}, nil
	}
	_, done, err := r.o.Stacks.RemoveStep(ctx, name, r.o.RemoveVolumes, Ownership(recipe))
	if err != nil {
		return false, controller.Result{}, fmt.Errorf("reconcile recipe %s: %w", recipe, err)
	}
	if !done {
		return false, controller.Result{RequeueAfter: stack.RemovePoll}, nil
	}
	logr.FromContextOrDiscard(ctx).Info("warm stack removed", "volumes", r.o.RemoveVolumes)
	return true, controller.Result{}, nil
}

// setFinalizer adds or drops the teardown finalizer that holds a warm Recipe until its
// stack is gone.
func (r *RecipeReconciler) setFinalizer(ctx context.Context, rc *v1alpha1.Recipe, on bool) error {
	has := rc.HasFinalizer(v1alpha1.FinalizerTeardown)
	if has == on {
		return nil
	}
	if on {
		rc.Finalizers = append(rc.Finalizers, v1alpha1.FinalizerTeardown)
	} else {
		rc.Finalizers = slices.DeleteFunc(slices.Clone(rc.Finalizers), func(f string) bool { return f == v1alpha1.FinalizerTeardown })
	}
	if err := r.o.Objects.Update(ctx, rc); err != nil && !(errors.Is(err, store.ErrNotFound) && !on) {
		return fmt.Errorf("reconcile recipe %s: finalizer: %w", rc.Name, err)
	}
	return nil
}

func (r *RecipeReconciler) setStatus(rc *v1alpha1.Recipe, ws *v1alpha1.WarmStack, status metav1.ConditionStatus, reason, message string) {
	rc.Status.WarmStack = ws
	apimeta.SetStatusCondition(&rc.Status.Conditions, v1alpha1.Condition{
		Type: v1alpha1.ConditionWarmReady, Status: status, Reason: reason, Message: message,
		ObservedGeneration: rc.Generation, LastTransitionTime: v1alpha1.Time{Time: r.o.Now().UTC().Truncate(time.Second)},
	})
	rc.Status.ObservedGeneration = rc.Generation
}

func (r *RecipeReconciler) writeStatus(ctx context.Context, rc *v1alpha1.Recipe) error {
	if err := r.o.Objects.UpdateStatus(ctx, rc); err != nil {
		return fmt.Errorf("reconcile recipe %s: status: %w", rc.Name, err)
	}
	return nil
}

// Ownership labels every object of the warm stack of recipe.
func Ownership(recipe string) map[string]string {
	return map[string]string{
		v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue,
		v1alpha1.LabelWarm:      recipe,
		v1alpha1.LabelRole:      v1alpha1.RoleWarm,
		v1alpha1.LabelRecipe:    recipe,
	}
}

func raw[T ~[]byte](msgs []T) [][]byte {
	out := make([][]byte, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, []byte(m))
	}
	return out
}
