package warm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/inventory"
)

// StackDeployer converges a recipe's warm stack; package reconcile implements it with its
// recipe deploy (materialise the commit, env, render with the recipe's overlays, apply,
// wait). warm never deploys by hand.
type StackDeployer interface {
	// DeployVersion converges stack to the recipe at version (the release tag) and commit,
	// and returns once it has converged, or with the error that stopped it. Every object it
	// creates or updates must carry swarmrun.dev/managed-by=swarmrun,
	// swarmrun.dev/warm=<recipe> and swarmrun.dev/role=warm; the stack's volumes are kept
	// from one version to the next. Deploying the version the stack already runs changes
	// nothing.
	DeployVersion(ctx context.Context, recipe *v1alpha1.Recipe, version, commit, stack string) error
}

// RecipeOptions configure a RecipeReconciler.
type RecipeOptions struct {
	// Objects is the store or API client. Required.
	Objects Objects
	// Engine is the Docker engine, to see the warm stack's labels. Required.
	Engine deploy.Engine
	// Deployer removes warm stacks (default: deploy.New over Engine).
	Deployer *deploy.Deployer
	// Stacks deploys warm stacks. Required.
	Stacks StackDeployer
	// RemoveVolumes removes a warm stack's volumes with it when the recipe stops being warm
	// or is deleted. Off by default: the volumes hold the app's data.
	RemoveVolumes bool
	// Now is the clock of condition times (default time.Now).
	Now func() time.Time
}

// RecipeReconciler keeps each Recipe's warm stack at its canonical version: it deploys the
// stack when the record changes, removes it when the recipe stops being warm, loses its
// record or is deleted (holding the Recipe with a finalizer until the stack is gone), and
// reports status.warmStack and the WarmReady condition. It removes only a stack whose labels
// name the recipe's warm stack; a stack of that name without them is reported, not touched.
type RecipeReconciler struct {
	o RecipeOptions
}

var _ controller.Reconciler = (*RecipeReconciler)(nil)

// NewRecipeReconciler returns a RecipeReconciler with the defaults filled in.
func NewRecipeReconciler(o RecipeOptions) *RecipeReconciler {
	if o.Deployer == nil {
		o.Deployer = deploy.New(deploy.Options{Engine: o.Engine})
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &RecipeReconciler{o: o}
}

// Reconcile converges the warm stack of the Recipe req names.
func (r *RecipeReconciler) Reconcile(ctx context.Context, req controller.Request) (controller.Result, error) {
	name := req.Name
	stack := StackName(name)
	log := logr.FromContextOrDiscard(ctx).WithValues("recipe", name, "stack", stack)
	ctx = logr.NewContext(ctx, log)

	rc := &v1alpha1.Recipe{}
	err := r.o.Objects.Get(ctx, name, rc)
	if errors.Is(err, store.ErrNotFound) {
		// Deleted without the finalizer (before it was added): the stack still goes.
		_, err := r.removeOwned(ctx, name)
		return controller.Result{}, err
	}
	if err != nil {
		return controller.Result{}, fmt.Errorf("reconcile recipe %s: %w", name, err)
	}

	switch {
	case rc.DeletionTimestamp != nil:
		if _, err := r.removeOwned(ctx, name); err != nil {
			return controller.Result{}, err
		}
		return controller.Result{}, r.setFinalizer(ctx, rc, false)
	case !rc.Spec.Warm:
		return controller.Result{}, r.retire(ctx, rc, ReasonNotEnrolled, fmt.Sprintf("recipe %s is not warm", name))
	case rc.Status.Canonical == nil:
		return controller.Result{}, r.retire(ctx, rc, ReasonNoCanonical, fmt.Sprintf("no run of %s has been promoted yet", name))
	}
	if err := r.setFinalizer(ctx, rc, true); err != nil {
		return controller.Result{}, err
	}
	return controller.Result{}, r.converge(ctx, rc)
}

// converge deploys the canonical version unless the status already says the stack runs it
// and the stack is there.
func (r *RecipeReconciler) converge(ctx context.Context, rc *v1alpha1.Recipe) error {
	c := rc.Status.Canonical
	stack := StackName(rc.Name)
	st, err := inventory.ListStack(ctx, r.o.Engine, stack)
	if err != nil {
		return fmt.Errorf("reconcile recipe %s: %w", rc.Name, err)
	}
	// Volumes alone are what an earlier removal kept on purpose: deploying over them is how
	// they are kept across versions.
	own := StackOwner(st)
	if live(st) && (!own.Managed || own.Warm != rc.Name) {
		why := fmt.Sprintf("stack %s exists but is not labelled as the warm stack of %s", stack, rc.Name)
		if own.Conflict != "" {
			why += ": " + own.Conflict
		}
		r.setStatus(rc, &v1alpha1.WarmStack{Name: stack}, v1alpha1.ConditionFalse, ReasonStackNotOwned, why)
		if err := r.writeStatus(ctx, rc); err != nil {
			return err
		}
		// No retry helps until an operator removes or relabels the stack; its removal or the
		// next resync brings the recipe back.
		return controller.Terminal(fmt.Errorf("reconcile recipe %s: %s", rc.Name, why))
	}
	ws := rc.Status.WarmStack
	if ws != nil && ws.Ready && ws.Version == c.Version && ws.Commit == c.Commit && len(st.Services) > 0 {
		return nil
	}
	log := logr.FromContextOrDiscard(ctx)
	log.Info("warm stack converging", "version", c.Version, "commit", short(c.Commit))
	if err := r.o.Stacks.DeployVersion(ctx, rc, c.Version, c.Commit, stack); err != nil {
		r.setStatus(rc, &v1alpha1.WarmStack{Name: stack, Version: c.Version, Commit: c.Commit}, v1alpha1.ConditionFalse,
			ReasonDeployFailed, fmt.Sprintf("deploy %s of %s: %v", c.Version, stack, err))
		if werr := r.writeStatus(ctx, rc); werr != nil {
			return errors.Join(fmt.Errorf("reconcile recipe %s: %w", rc.Name, err), werr)
		}
		return fmt.Errorf("reconcile recipe %s: %w", rc.Name, err)
	}
	r.setStatus(rc, &v1alpha1.WarmStack{Name: stack, Version: c.Version, Commit: c.Commit, Ready: true}, v1alpha1.ConditionTrue,
		ReasonConverged, fmt.Sprintf("%s runs %s at %s", stack, c.Version, short(c.Commit)))
	log.Info("warm stack converged", "version", c.Version)
	// A canonical written while the deploy ran makes this write conflict: the controller
	// retries, and the retry deploys the newer record.
	return r.writeStatus(ctx, rc)
}

// retire removes the warm stack of a recipe that should have none, and says why.
func (r *RecipeReconciler) retire(ctx context.Context, rc *v1alpha1.Recipe, reason, message string) error {
	removed, err := r.removeOwned(ctx, rc.Name)
	if err != nil {
		return err
	}
	if reason == ReasonNotEnrolled && !removed && rc.Status.WarmStack == nil && apimeta.FindStatusCondition(rc.Status.Conditions, v1alpha1.ConditionWarmReady) == nil &&
		!rc.HasFinalizer(v1alpha1.FinalizerTeardown) {
		return nil // never was warm: nothing to say
	}
	if removed {
		event(ctx, r.o.Objects, v1alpha1.ObjectReference{Kind: v1alpha1.KindRecipe, Name: rc.Name, UID: rc.UID},
			v1alpha1.EventNormal, ReasonRemoved, fmt.Sprintf("removed %s: %s", StackName(rc.Name), message))
	}
	if err := r.setFinalizer(ctx, rc, false); err != nil {
		return err
	}
	r.setStatus(rc, nil, v1alpha1.ConditionFalse, reason, message)
	return r.writeStatus(ctx, rc)
}

// removeOwned removes the recipe's warm stack if its labels say it is one, and reports
// whether there was one.
func (r *RecipeReconciler) removeOwned(ctx context.Context, name string) (bool, error) {
	stack := StackName(name)
	st, err := inventory.ListStack(ctx, r.o.Engine, stack)
	if err != nil {
		return false, fmt.Errorf("reconcile recipe %s: %w", name, err)
	}
	if len(st.Objects()) == 0 {
		return false, nil
	}
	if own := StackOwner(st); !own.Managed || own.Warm != name {
		logr.FromContextOrDiscard(ctx).Info("stack of the warm stack's name is not swarmrun's, left alone")
		return false, nil
	}
	if !live(st) && !r.o.RemoveVolumes {
		return false, nil // only the kept volumes are left
	}
	if _, err := inventory.RemoveStack(ctx, r.o.Deployer, stack, r.o.RemoveVolumes); err != nil {
		return false, fmt.Errorf("reconcile recipe %s: %w", name, err)
	}
	logr.FromContextOrDiscard(ctx).Info("warm stack removed", "volumes", r.o.RemoveVolumes)
	return true, nil
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

// live reports whether the stack has anything besides volumes.
func live(st *inventory.Stack) bool {
	return len(st.Services)+len(st.Networks)+len(st.Secrets)+len(st.Configs) > 0
}
