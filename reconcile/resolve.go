package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/stack"
)

// stackSuffixLen is how many hex digits of the TestRun's UID the stack name carries, so that
// a TestRun deleted and re-created under the same name never meets its predecessor's stack.
const stackSuffixLen = 6

// StackName is the run stack of a TestRun: its name and the first hex digits of its UID. It
// depends only on the object, so every reconcile (and every restart) finds the same stack.
func StackName(tr *v1alpha1.TestRun) string {
	uid := strings.ReplaceAll(tr.UID, "-", "")
	if len(uid) > stackSuffixLen {
		uid = uid[:stackSuffixLen]
	}
	return tr.Name + "-" + uid
}

// resolve fetches the recipe source once, resolves the head and the target branch, plans the
// upgrade base and stores all of it with the Resolved condition. Later steps only read what
// it stored: the commits are fixed for the rest of the run, whatever the branches do.
func (r *TestRunReconciler) resolve(ctx context.Context, rn *run) error {
	tr := rn.tr
	src, err := r.source(ctx, rn)
	if err != nil {
		return err
	}
	if err := src.Fetch(ctx); err != nil {
		if reason, final := stack.Reason(err); final {
			return &failure{reason: reason, err: fmt.Errorf("resolve: %w", err)}
		}
		return fmt.Errorf("resolve: %w", err)
	}
	p, err := PlanRun(ctx, src, tr, rn.rc)
	if err != nil {
		return err
	}
	head, plan := p.Head, p.Base
	if tr.Spec.Warm() && plan.Kind != v1alpha1.BaseNone {
		// A run that asked for the warm stack gets it or fails: never a cold base instead.
		if err := warmAvailable(rn.rc); err != nil {
			return &failure{reason: v1alpha1.ReasonWarmUnavailable, err: err}
		}
	}

	tr.Status.ObservedGeneration = tr.Generation
	tr.Status.RecipeGeneration = rn.rc.Generation
	tr.Status.Stack = StackName(tr)
	tr.Status.Head = &v1alpha1.HeadStatus{
		Ref:          head.Ref,
		Commit:       head.Hash,
		Version:      head.Version,
		ChaosVersion: stack.ChaosVersion(head.Hash, false),
	}
	tr.Status.Base = &plan
	prev := PreviousFor(plan, rn.rc.Spec.Previous)
	if prev.Stale {
		r.setCondition(tr, v1alpha1.ConditionPreviousStale, v1alpha1.ConditionTrue, v1alpha1.ReasonPreviousStale, prev.Message)
	}
	msg := fmt.Sprintf("head %s; base %s", describeHead(head.Ref, head.Hash), describeBase(plan))
	r.setCondition(tr, v1alpha1.ConditionResolved, v1alpha1.ConditionTrue, v1alpha1.ReasonResolved, msg)
	if err := r.save(ctx, rn); err != nil {
		return err
	}
	r.event(ctx, rn, v1alpha1.EventNormal, v1alpha1.ConditionResolved, "%s", msg)
	if prev.Stale {
		r.event(ctx, rn, v1alpha1.EventWarning, v1alpha1.ReasonPreviousStale, "%s", prev.Message)
	}
	return nil
}

// headFailure fails the run on a ref that names nothing in the source; other errors are
// retried.
func headFailure(field string, err error) error {
	if errors.Is(err, stack.ErrRefNotFound) || errors.Is(err, stack.ErrAmbiguousRef) {
		return &failure{reason: v1alpha1.ReasonSourceFailed, err: fmt.Errorf("spec.%s: %w", field, err)}
	}
	return fmt.Errorf("resolve %s: %w", field, err)
}

func describeBase(p v1alpha1.BasePlan) string {
	switch p.Kind {
	case v1alpha1.BaseVersion:
		return fmt.Sprintf("version %s (%s)", p.Version, p.Reason)
	case v1alpha1.BaseRef:
		return fmt.Sprintf("%s at %s (%s)", p.Ref, shortSHA(p.Commit), p.Reason)
	case v1alpha1.BaseWarm:
		return fmt.Sprintf("warm at %s (%s)", p.Version, p.Reason)
	}
	return fmt.Sprintf("none (%s)", p.Reason)
}

// hasBase reports whether the run deploys a base before the head.
func hasBase(tr *v1alpha1.TestRun) bool {
	return tr.Status.Base != nil && tr.Status.Base.Kind != v1alpha1.BaseNone && tr.Status.Base.Kind != ""
}

// warmAvailable says why a run cannot start from the recipe's warm stack, nil when it can:
// the recipe must be warm and have a canonical version, which its warm stack runs (or is
// being brought to; the base phase waits for it).
func warmAvailable(rc *v1alpha1.Recipe) error {
	switch {
	case !rc.Spec.Warm:
		return fmt.Errorf("spec.base.from is warm, but recipe %s is not warm (spec.warm is false)", rc.Name)
	case rc.Status.Canonical == nil || rc.Status.Canonical.Version == "":
		return fmt.Errorf("spec.base.from is warm, but recipe %s has no canonical version yet: a green, cold run of its newest release promotes one", rc.Name)
	}
	return nil
}
