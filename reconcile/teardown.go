package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/go-logr/logr"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/reconcile/results"
)

// teardown removes a finished run's stack when its policy says so. It looks at the swarm
// rather than at a stored flag, so a teardown cut short is finished by the next reconcile,
// and a stack already gone costs one listing.
func (r *TestRunReconciler) teardown(ctx context.Context, tr *v1alpha1.TestRun) (next, error) {
	succeeded := apimeta.IsStatusConditionTrue(tr.Status.Conditions, v1alpha1.ConditionSucceeded)
	switch tr.Spec.Teardown {
	case v1alpha1.TeardownNever:
		return next{}, nil
	case v1alpha1.TeardownOnSuccess:
		if !succeeded {
			return next{}, nil
		}
	}
	return r.removeStack(ctx, tr)
}

// finalize tears down the stack of a TestRun being deleted, whatever its policy and however
// far it got, and then lets the object go by removing the finalizer.
func (r *TestRunReconciler) finalize(ctx context.Context, tr *v1alpha1.TestRun) (next, error) {
	r.forget(tr.Name)
	if !tr.HasFinalizer(v1alpha1.FinalizerTeardown) {
		return next{}, nil
	}
	if res, err := r.removeStack(ctx, tr); err != nil || !res.IsZero() {
		return res, err
	}
	r.dropDeployDirs(ctx, tr)
	tr.Finalizers = slices.DeleteFunc(tr.Finalizers, func(f string) bool { return f == v1alpha1.FinalizerTeardown })
	if err := r.o.Store.Update(ctx, tr); err != nil {
		return next{}, fmt.Errorf("remove finalizer: %w", err)
	}
	return next{}, nil
}

// removeStack removes the run's stack with its volumes, if anything of it is left and its
// labels say it is this run's. The name alone proves nothing (a status edited by hand, a
// stack of the same name made by someone else), and the removal takes volumes: a stack that
// is not this run's is left alone with a Warning event, and the teardown counts as done so
// that the run's deletion is not held up by an object swarmrun may not touch.
func (r *TestRunReconciler) removeStack(ctx context.Context, tr *v1alpha1.TestRun) (next, error) {
	// The run's own stack, by its name and UID: never a name read from status, which
	// swarmrun may not have written.
	name := StackName(tr)
	own, exists, err := r.stacks.Owner(ctx, name)
	if err != nil {
		return next{}, fmt.Errorf("teardown: %w", err)
	}
	if !exists {
		return next{}, nil
	}
	ref := v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: tr.Name, UID: tr.UID}
	if !own.Managed || own.TestRun != tr.Name || own.Conflict != "" {
		why := own.Conflict
		switch {
		case why != "":
		case !own.Managed:
			why = "not labelled " + v1alpha1.LabelManagedBy + "=" + v1alpha1.ManagedByValue
		default:
			why = "owned by " + ownerName(own)
		}
		msg := fmt.Sprintf("stack %s not removed: it is not this run's (%s); teardown counted as done", name, why)
		_ = r.o.Store.RecordEvent(context.WithoutCancel(ctx), ref, v1alpha1.EventWarning, v1alpha1.ReasonNotOwned, msg)
		return next{}, nil
	}
	// A warm base's copy cut short leaves its helper container holding the stack's volumes.
	if err := r.stacks.RemoveCopyHelper(ctx, name); err != nil {
		return next{}, fmt.Errorf("teardown: %w", err)
	}
	removed, done, err := r.stacks.RemoveStep(ctx, name, true, ownership(tr, tr.Spec.Recipe, ""))
	if err != nil {
		return next{}, fmt.Errorf("teardown: %w", err)
	}
	if !done {
		return after(stack.RemovePoll), nil
	}
	msg := fmt.Sprintf("stack %s removed (last step: %d networks, %d secrets, %d configs, %d volumes)", name,
		len(removed.Networks), len(removed.Secrets), len(removed.Configs), len(removed.Volumes))
	_ = r.o.Store.RecordEvent(context.WithoutCancel(ctx), ref, v1alpha1.EventNormal, v1alpha1.ReasonTornDown, msg)
	return next{}, nil
}

// ownerName names a managed stack's owner for an event.
func ownerName(o stack.Ownership) string {
	if o.Warm != "" {
		return "warm stack of recipe " + o.Warm
	}
	return "testrun " + o.TestRun
}

// dropDeployDirs removes the run's materialised deploy directories; its results stay.
func (r *TestRunReconciler) dropDeployDirs(ctx context.Context, tr *v1alpha1.TestRun) {
	dir := results.Dir(r.o.DataDir, tr.Name)
	for _, role := range []string{roleBase, roleHead} {
		if err := os.RemoveAll(filepath.Join(dir, role)); err != nil {
			logr.FromContextOrDiscard(ctx).Error(err, "deploy directory not removed", "role", role)
		}
	}
}
