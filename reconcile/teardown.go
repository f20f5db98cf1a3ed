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
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/reconcile/results"
	"github.com/swarmrun/swarmrun/warm"
)

// teardown removes a finished run's stack when its policy says so. It looks at the swarm
// rather than at a stored flag, so a teardown cut short is finished by the next reconcile,
// and a stack already gone costs one listing.
func (r *TestRunReconciler) teardown(ctx context.Context, tr *v1alpha1.TestRun) error {
	succeeded := apimeta.IsStatusConditionTrue(tr.Status.Conditions, v1alpha1.ConditionSucceeded)
	switch tr.Spec.Teardown {
	case v1alpha1.TeardownNever:
		return nil
	case v1alpha1.TeardownOnSuccess:
		if !succeeded {
			return nil
		}
	}
	return r.removeStack(ctx, tr)
}

// finalize tears down the stack of a TestRun being deleted, whatever its policy and however
// far it got, and then lets the object go by removing the finalizer.
func (r *TestRunReconciler) finalize(ctx context.Context, tr *v1alpha1.TestRun) error {
	if !tr.HasFinalizer(v1alpha1.FinalizerTeardown) {
		return nil
	}
	if err := r.removeStack(ctx, tr); err != nil {
		return err
	}
	r.dropDeployDirs(ctx, tr)
	tr.Finalizers = slices.DeleteFunc(tr.Finalizers, func(f string) bool { return f == v1alpha1.FinalizerTeardown })
	if err := r.o.Store.Update(ctx, tr); err != nil {
		return fmt.Errorf("remove finalizer: %w", err)
	}
	return nil
}

// removeStack removes the run's stack with its volumes, if anything of it is left and its
// labels say it is this run's. The name alone proves nothing (a status edited by hand, a
// stack of the same name made by someone else), and the removal takes volumes: a stack that
// is not this run's is left alone with a Warning event, and the teardown counts as done so
// that the run's deletion is not held up by an object swarmrun may not touch.
func (r *TestRunReconciler) removeStack(ctx context.Context, tr *v1alpha1.TestRun) error {
	stack := tr.Status.Stack
	if stack == "" {
		// Not resolved yet: the name is the one resolve would have stored.
		stack = StackName(tr)
	}
	inv, err := inventory.ListStack(ctx, r.o.Engine, stack)
	if err != nil {
		return fmt.Errorf("teardown: %w", err)
	}
	if len(inv.Objects()) == 0 {
		return nil
	}
	ref := v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: tr.Name, UID: tr.UID}
	if own := warm.StackOwner(inv); !own.Managed || own.TestRun != tr.Name || own.Conflict != "" {
		why := own.Conflict
		switch {
		case why != "":
		case !own.Managed:
			why = "not labelled " + v1alpha1.LabelManagedBy + "=" + v1alpha1.ManagedByValue
		default:
			why = "owned by " + ownerName(own)
		}
		msg := fmt.Sprintf("stack %s not removed: it is not this run's (%s); teardown counted as done", stack, why)
		_ = r.o.Store.RecordEvent(context.WithoutCancel(ctx), ref, v1alpha1.EventWarning, "NotOwned", msg)
		return nil
	}
	removed, err := r.o.Deployer.Remove(ctx, stack, deploy.RemoveOptions{Volumes: true})
	if err != nil {
		return fmt.Errorf("teardown: %w", err)
	}
	msg := fmt.Sprintf("stack %s removed: %d services, %d networks, %d secrets, %d configs, %d volumes", stack,
		len(removed.Services), len(removed.Networks), len(removed.Secrets), len(removed.Configs), len(removed.Volumes))
	_ = r.o.Store.RecordEvent(context.WithoutCancel(ctx), ref, v1alpha1.EventNormal, "TornDown", msg)
	return nil
}

// ownerName names a managed stack's owner for an event.
func ownerName(o warm.Ownership) string {
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
