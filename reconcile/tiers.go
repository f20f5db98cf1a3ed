package reconcile

import (
	"context"
	"fmt"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/reconcile/results"
)

// laterTiers run after the head is verified, in this order.
func laterTiers() []v1alpha1.Stage {
	return []v1alpha1.Stage{v1alpha1.StageBackup, v1alpha1.StageRestore, v1alpha1.StageCustom}
}

func tiersDone(tr *v1alpha1.TestRun) bool {
	for _, s := range laterTiers() {
		if _, ok := tr.Status.Tiers[string(s)]; !ok {
			return false
		}
	}
	return true
}

// runTiers takes the next step of the backup, restore and custom tiers: the first tier not
// done either does not run (not asked for, not applicable, no checks) and is recorded, or
// its work runs in the background, a first call starting it and a later one recording its
// results. A failed tier does not stop the others: the run is red at the end, with every
// tier's result.
func (r *TestRunReconciler) runTiers(ctx context.Context, rn *run) (next, error) {
	tr := rn.tr
	recorded := false
	for _, stage := range laterTiers() {
		if _, done := tr.Status.Tiers[string(stage)]; done {
			continue
		}
		t, ran, done, err := r.laterTier(ctx, rn, stage)
		if err != nil {
			return next{}, err
		}
		if !done {
			if recorded {
				// Tiers decided in this call are stored, so that no later call decides them again.
				return after(r.o.CheckPoll), r.save(ctx, rn)
			}
			return after(r.o.CheckPoll), nil
		}
		setTier(tr, string(stage), t)
		if ran {
			return again, r.save(ctx, rn)
		}
		recorded = true
	}
	return again, r.save(ctx, rn)
}

// laterTier decides one later tier: its result once done; ran says its work ran in the
// background and was collected now. Backup and restore are decided from the head's backupbot
// labels (backupTier); custom runs its checks.
func (r *TestRunReconciler) laterTier(ctx context.Context, rn *run, stage v1alpha1.Stage) (t v1alpha1.TierResult, ran, done bool, err error) {
	if !rn.tr.Spec.HasStage(stage) {
		return v1alpha1.TierResult{Result: v1alpha1.ResultSkipped, Reason: "not in the run's stages"}, false, true, nil
	}
	checks, err := r.tierChecks(ctx, rn, stage)
	if err != nil {
		return t, false, false, err
	}
	if stage == v1alpha1.StageBackup || stage == v1alpha1.StageRestore {
		return r.backupTier(ctx, rn, stage, checks)
	}
	if res, skip := notRun(rn.tr, rn.rc, stage); skip {
		return res, false, true, nil
	}
	if len(checks) == 0 {
		return v1alpha1.TierResult{Result: v1alpha1.ResultSkipped, Reason: "the recipe defines no checks for this tier"}, false, true, nil
	}
	res, done, err := r.collectChecks(ctx, rn, string(stage), checks)
	if err != nil || !done {
		return t, false, false, err
	}
	t = v1alpha1.TierResult{Result: v1alpha1.ResultPassed, Checks: res}
	if failed := failedChecks(res); failed != "" {
		t.Result, t.Reason = v1alpha1.ResultFailed, "checks failed: "+failed
	}
	return t, true, true, nil
}

// notRun is the result of a tier that does not run: not asked for, or declared not
// applicable. Backup and restore are never not applicable by declaration alone: whether a
// recipe has backups is read from the head's labels (backupTier).
func notRun(tr *v1alpha1.TestRun, rc *v1alpha1.Recipe, stage v1alpha1.Stage) (v1alpha1.TierResult, bool) {
	if !tr.Spec.HasStage(stage) {
		return v1alpha1.TierResult{Result: v1alpha1.ResultSkipped, Reason: "not in the run's stages"}, true
	}
	if stage == v1alpha1.StageBackup || stage == v1alpha1.StageRestore {
		return v1alpha1.TierResult{}, false
	}
	if reason, na := rc.Spec.NotApplicable(stage); na {
		return v1alpha1.TierResult{Result: v1alpha1.ResultNotApplicable, Reason: reason}, true
	}
	return v1alpha1.TierResult{}, false
}

// tierChecks are a later tier's checks: the Recipe's, then those the head ships.
func (r *TestRunReconciler) tierChecks(ctx context.Context, rn *run, stage v1alpha1.Stage) ([]sourced, error) {
	head, err := r.shipped(ctx, rn, roleHead)
	if err != nil {
		return nil, err
	}
	pick := func(c v1alpha1.Checks) []v1alpha1.Check {
		switch stage {
		case v1alpha1.StageBackup:
			return c.Backup
		case v1alpha1.StageRestore:
			return c.Restore
		case v1alpha1.StageCustom:
			return c.Custom
		}
		return nil
	}
	return append(fromRecipe(pick(rn.rc.Spec.Checks)), from(v1alpha1.CheckSourceHead, pick(head))...), nil
}

// lint runs the recipe rules on the head's render. Its result caps the level, never the
// verdict.
func (r *TestRunReconciler) lint(ctx context.Context, rn *run) error {
	pr, err := r.prepare(ctx, rn, roleHead)
	if err != nil {
		return err
	}
	findings := pr.Lint(r.stacks.AppService())
	t := v1alpha1.TierResult{Result: v1alpha1.ResultPassed}
	for _, f := range findings {
		c := v1alpha1.CheckResult{Name: f.Rule + " " + f.Object, Result: v1alpha1.ResultPassed, Message: rn.masker().String(f.Message),
			Source: v1alpha1.CheckSourceBuiltin}
		if f.Severity == stack.LintError {
			c.Result = v1alpha1.ResultFailed
		}
		t.Checks = append(t.Checks, c)
	}
	if !stack.LintPassed(findings) {
		t.Result, t.Reason = v1alpha1.ResultFailed, "lint errors: "+failedChecks(t.Checks)
	}
	setTier(rn.tr, v1alpha1.TierLint, t)
	return nil
}

// finish gives a run that went all the way its verdict: green when no requested tier
// failed.
func (r *TestRunReconciler) finish(ctx context.Context, rn *run) error {
	tr := rn.tr
	// Linting is pure: it is stored with the verdict, and a crash before that lints again.
	if err := r.lint(ctx, rn); err != nil {
		return err
	}
	fillTiers(tr, rn.rc, "no upgrade base: "+tr.Status.Base.Reason)
	var failed []string
	for _, s := range tr.Spec.Stages {
		if tr.Status.Tiers[string(s)].Result == v1alpha1.ResultFailed {
			failed = append(failed, string(s))
		}
	}
	if len(failed) > 0 {
		return r.conclude(ctx, rn, v1alpha1.ConditionFalse, v1alpha1.ReasonCheckFailed, "tiers failed: "+joinNames(failed))
	}
	return r.conclude(ctx, rn, v1alpha1.ConditionTrue, v1alpha1.ReasonSucceeded,
		fmt.Sprintf("head %s passed", shortSHA(tr.Status.Head.Commit)))
}

// fail ends the run red with f: the step it stopped at turns False, f's tier fails, and every
// requested tier that had not run is skipped.
func (r *TestRunReconciler) fail(ctx context.Context, rn *run, f *failure) error {
	tr := rn.tr
	msg := rn.masker().String(f.err.Error())
	for _, typ := range []string{v1alpha1.ConditionResolved, v1alpha1.ConditionBaseReady, v1alpha1.ConditionHeadReady,
		v1alpha1.ConditionPruned, v1alpha1.ConditionVerified} {
		if !apimeta.IsStatusConditionTrue(tr.Status.Conditions, typ) {
			r.setCondition(tr, typ, v1alpha1.ConditionFalse, f.reason, msg)
			break
		}
	}
	if f.tier != "" {
		t := tr.Status.Tiers[f.tier]
		t.Result, t.Reason = v1alpha1.ResultFailed, f.reason+": "+msg
		setTier(tr, f.tier, t)
	}
	fillTiers(tr, rn.rc, "the run stopped before this tier: "+f.reason)
	return r.conclude(ctx, rn, v1alpha1.ConditionFalse, f.reason, msg)
}

// conclude stores the verdict with the level and the promotion decision (see promote),
// writes the results and drops the run's deploy directories. The results are written before
// the verdict is stored, so a run that is finished always has them; a crash in between
// repeats both.
func (r *TestRunReconciler) conclude(ctx context.Context, rn *run, status metav1.ConditionStatus, reason, msg string) error {
	tr := rn.tr
	tr.Status.Level = Level(tr.Status.Tiers)
	now := v1alpha1.Time{Time: r.now()}
	tr.Status.CompletedAt = &now
	r.setCondition(tr, v1alpha1.ConditionSucceeded, status, reason, fmt.Sprintf("%s (level %d/%d)", msg, tr.Status.Level, v1alpha1.MaxLevel))
	if err := r.promote(ctx, rn); err != nil {
		return err
	}
	dir := results.Dir(r.o.DataDir, tr.Name)
	if _, err := results.Write(dir, tr, rn.masker(), r.now()); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := r.save(ctx, rn); err != nil {
		return err
	}
	r.o.Observer.RunFinished(reason, tr.Status.Level)
	if c := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionPromoted); c != nil {
		r.o.Observer.Promotion(c.Status == v1alpha1.ConditionTrue)
	}
	r.dropDeployDirs(ctx, tr)
	r.forget(tr.Name)
	typ := v1alpha1.EventNormal
	if status != v1alpha1.ConditionTrue {
		typ = v1alpha1.EventWarning
	}
	r.event(ctx, rn, typ, reason, "level %d/%d: %s", tr.Status.Level, v1alpha1.MaxLevel, msg)
	return nil
}

// currentTier is the tier a failure of the next step belongs to.
func (r *TestRunReconciler) currentTier(rn *run) string {
	tr := rn.tr
	switch {
	case !apimeta.IsStatusConditionTrue(tr.Status.Conditions, v1alpha1.ConditionResolved):
		return ""
	case !apimeta.IsStatusConditionTrue(tr.Status.Conditions, v1alpha1.ConditionBaseReady) && hasBase(tr):
		return string(v1alpha1.StageInstall)
	case !apimeta.IsStatusConditionTrue(tr.Status.Conditions, v1alpha1.ConditionVerified):
		return headTier(tr)
	}
	return ""
}

// fillTiers gives every stage without a final result one: not asked for, not applicable, or
// skipped for why (the run stopped early, or there was no base to upgrade from). The upgrade
// tier's interim result (before checks passed, upgrade pending) is not final.
func fillTiers(tr *v1alpha1.TestRun, rc *v1alpha1.Recipe, why string) {
	for _, s := range v1alpha1.Stages() {
		if t, ok := tr.Status.Tiers[string(s)]; ok && t.Reason != upgradePending {
			continue
		}
		if rc != nil {
			if res, skip := notRun(tr, rc, s); skip {
				setTier(tr, string(s), res)
				continue
			}
		}
		setTier(tr, string(s), v1alpha1.TierResult{Result: v1alpha1.ResultSkipped, Reason: why})
	}
}
