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
	"github.com/swarmrun/swarmrun/reconcile/results"
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

// removeStack removes the run's stack with its volumes, if anything of it is left.
func (r *TestRunReconciler) removeStack(ctx context.Context, tr *v1alpha1.TestRun) error {
	stack := tr.Status.Stack
	if stack == "" {
		// Not resolved yet: the name is the one resolve would have stored.
		stack = StackName(tr)
	}
	state, err := r.o.Deployer.Observe(ctx, stack)
	if err != nil {
		return fmt.Errorf("teardown: %w", err)
	}
	if !state.Exists() {
		return nil
	}
	removed, err := r.o.Deployer.Remove(ctx, stack, deploy.RemoveOptions{Volumes: true})
	if err != nil {
		return fmt.Errorf("teardown: %w", err)
	}
	ref := v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: tr.Name, UID: tr.UID}
	msg := fmt.Sprintf("stack %s removed: %d services, %d networks, %d secrets, %d configs, %d volumes", stack,
		len(removed.Services), len(removed.Networks), len(removed.Secrets), len(removed.Configs), len(removed.Volumes))
	_ = r.o.Store.RecordEvent(context.WithoutCancel(ctx), ref, v1alpha1.EventNormal, "TornDown", msg)
	return nil
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
