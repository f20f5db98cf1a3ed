package reconcile

import (
	"context"
	"fmt"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// DefaultWarmPoll is how often a warm run asks again whether the warm stack runs the version
// it resolved, when no event of the Recipe wakes it first.
const DefaultWarmPoll = 2 * time.Second

// warmBase takes the next step of a warm base (spec.base.from: warm): wait until the
// recipe's warm stack runs the canonical version the run resolved, copy its volumes into the
// run's stack (in the background, like checks: stack.Pipeline.CopyVolumes over the base's
// render, so the run's volumes are the ones its compose declares), and record the copy. No
// base is deployed. The install tier passes on the warm stack's own standing: its canonical
// comes from a green, cold run, whose install tier passed, and WarmReady says it runs; the
// install checks are listed as not run. The upgrade.before checks do not run either: nothing
// runs the base version in this stack, so the upgrade tier starts from the copied data. The
// head is then deployed onto the copy.
func (r *TestRunReconciler) warmBase(ctx context.Context, rn *run) (next, error) {
	tr, rc := rn.tr, rn.rc
	plan := tr.Status.Base
	tier := string(v1alpha1.StageInstall)
	unavailable := func(format string, args ...any) error {
		return &failure{reason: v1alpha1.ReasonWarmUnavailable, tier: tier, err: fmt.Errorf(format, args...)}
	}
	ws := rc.Status.WarmStack
	switch {
	case !rc.Spec.Warm:
		return next{}, unavailable("recipe %s is no longer warm (spec.warm is false)", rc.Name)
	case ws == nil || ws.Version == "" || (ws.Version == plan.Version && !ws.Ready):
		// The Recipe controller (swarmrun serve) is bringing the warm stack to the canonical:
		// wait for it, within the run's timeout, and say so once.
		msg := fmt.Sprintf("waiting for the warm stack %s to run %s", warmName(rc, ws), plan.Version)
		if c := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionBaseReady); c == nil || c.Message != msg {
			r.setCondition(tr, v1alpha1.ConditionBaseReady, v1alpha1.ConditionUnknown, v1alpha1.ReasonProgressing, msg)
			if err := r.save(ctx, rn); err != nil {
				return next{}, err
			}
		}
		return after(r.o.WarmPoll), nil
	case ws.Version != plan.Version || ws.Commit != plan.Commit:
		return next{}, unavailable("the warm stack %s runs %s at %s, the run resolved %s at %s", ws.Name, ws.Version, shortSHA(ws.Commit), plan.Version, shortSHA(plan.Commit))
	}
	pr, err := r.prepare(ctx, rn, roleBase)
	if err != nil {
		return next{}, withTier(err, tier)
	}
	out, done := r.checks.collect(ctx, tr.DeepCopy(), "warm-copy", func(ctx context.Context) outcome {
		start := r.now()
		copied, err := r.stacks.CopyVolumes(ctx, ws.Name, pr)
		c := v1alpha1.CheckResult{Name: "warm: volumes copied", Result: v1alpha1.ResultPassed, Source: v1alpha1.CheckSourceBuiltin,
			Duration: v1alpha1.Duration{Duration: r.now().Sub(start)}}
		if err != nil {
			c.Result, c.Message = v1alpha1.ResultFailed, rn.masker().String(err.Error())
			return outcome{checks: []v1alpha1.CheckResult{c}}
		}
		var bytes int64
		o := outcome{}
		for _, v := range copied {
			o.copied = append(o.copied, v1alpha1.VolumeCopy{From: v.From, To: v.To, Bytes: v.Bytes})
			bytes += v.Bytes
		}
		c.Message = fmt.Sprintf("%d volumes (%d bytes of archive) from %s", len(copied), bytes, ws.Name)
		o.checks = []v1alpha1.CheckResult{c}
		return o
	})
	if !done {
		return after(r.o.CheckPoll), nil
	}
	if failed := failedChecks(out.checks); failed != "" {
		return next{}, unavailable("copy the volumes of %s: %s", ws.Name, out.checks[0].Message)
	}
	now := v1alpha1.Time{Time: r.now()}
	plan.Warm = &v1alpha1.WarmBase{Stack: ws.Name, Volumes: out.copied, CopiedAt: &now}
	if tr.Spec.HasStage(v1alpha1.StageInstall) {
		ready := v1alpha1.CheckResult{Name: "warm: " + ws.Name + " ready", Result: v1alpha1.ResultPassed, Source: v1alpha1.CheckSourceBuiltin,
			Message: fmt.Sprintf("the warm stack runs the canonical %s at %s%s", ws.Version, shortSHA(ws.Commit), promotedBy(rc.Status.Canonical))}
		checks := append([]v1alpha1.CheckResult{ready}, out.checks...)
		checks = append(checks, notRunOnWarm(fromRecipe(rc.Spec.Checks.Install), "the canonical's own run ran them on a cold install")...)
		setTier(tr, tier, v1alpha1.TierResult{Result: v1alpha1.ResultPassed, Reason: "warm base: the warm stack's install stands in for a base deploy", Checks: checks})
	}
	if upgradeWanted(tr) {
		before, err := r.beforeChecks(ctx, rn)
		if err != nil {
			return next{}, err
		}
		setTier(tr, string(v1alpha1.StageUpgrade), v1alpha1.TierResult{Result: v1alpha1.ResultPassed, Reason: upgradePending,
			Checks: notRunOnWarm(before, "no deploy of the base runs in a warm run's stack")})
	}
	msg := fmt.Sprintf("warm at %s: %d volumes copied from %s", plan.Version, len(out.copied), ws.Name)
	r.setCondition(tr, v1alpha1.ConditionBaseReady, v1alpha1.ConditionTrue, v1alpha1.ReasonWarmCopied, msg)
	if err := r.save(ctx, rn); err != nil {
		return next{}, err
	}
	r.event(ctx, rn, v1alpha1.EventNormal, v1alpha1.ReasonWarmCopied, "%s", msg)
	return again, nil
}

// warmName is the warm stack's name, from its status or, before it has one, the recipe's.
func warmName(rc *v1alpha1.Recipe, ws *v1alpha1.WarmStack) string {
	if ws != nil && ws.Name != "" {
		return ws.Name
	}
	return "warm-" + rc.Name
}

// notRunOnWarm lists checks that a warm run does not run, each skipped with why.
func notRunOnWarm(checks []sourced, why string) []v1alpha1.CheckResult {
	out := make([]v1alpha1.CheckResult, 0, len(checks))
	for _, c := range checks {
		out = append(out, v1alpha1.CheckResult{Name: c.check.Name, Result: v1alpha1.ResultSkipped, Source: c.source,
			Message: "not run on a warm base: " + why})
	}
	return out
}

// promotedBy names the run that promoted the canonical, when the record says.
func promotedBy(c *v1alpha1.Canonical) string {
	if c == nil || c.Run == "" {
		return ""
	}
	return ", promoted by run " + c.Run
}

// warmPlan is the base plan of a run that starts from the warm stack: the recipe's canonical
// version, at its published commit when it is published.
func warmPlan(in BaseInput) v1alpha1.BasePlan {
	c := in.Canonical
	commit := c.Commit
	if v, ok := published(in.Published, c.Version); ok {
		commit = v.Commit
	}
	reason := fmt.Sprintf("warm at %s: a copy of the warm stack's data at the canonical", c.Version)
	if !olderThanHead(in, c.Version, commit) {
		reason += fmt.Sprintf(" (not older than head %s: the data is what the warm stack has)", headName(in))
	}
	return v1alpha1.BasePlan{Kind: v1alpha1.BaseWarm, Version: c.Version, Ref: c.Version, Commit: commit, Reason: reason}
}
