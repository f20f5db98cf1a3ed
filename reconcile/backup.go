package reconcile

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/internal/mask"
	"github.com/swarmrun/swarmrun/reconcile/results"
)

// noBackupLabels is why a head without backupbot labels (and without checks for the tier)
// has nothing to back up or restore.
const noBackupLabels = "no backupbot labels in the head"

// DefaultRestoreSettle is how long the stack must stay converged after a restore.
const DefaultRestoreSettle = 2 * time.Second

// backupTier decides the backup or the restore tier from the head's render: its backupbot
// labels (stack.Prepared.BackupPlan), read from what the head deploys, decide whether the
// tier applies, never a declaration alone. With labels, the tier does what backupbot would
// (stack.Pipeline.Backup, Restore) and then runs the tier's checks (the Recipe's and the
// head's own); without labels it runs the checks alone, and with neither it is not
// applicable. The work runs in the background as a batch: done is false until a later step
// collects it, and ran says the tier's result came from such a batch.
func (r *TestRunReconciler) backupTier(ctx context.Context, rn *run, stage v1alpha1.Stage, checks []sourced) (t v1alpha1.TierResult, ran, done bool, err error) {
	tr, rc := rn.tr, rn.rc
	pr, err := r.prepare(ctx, rn, roleHead)
	if err != nil {
		return t, false, false, err
	}
	plan, planErr := pr.BackupPlan()
	labelled := plan.Applicable() || planErr != nil
	declared, isDeclared := rc.Spec.NotApplicable(stage)
	switch {
	case !labelled && len(checks) == 0:
		reason := noBackupLabels
		if isDeclared {
			reason += fmt.Sprintf(" (the Recipe declares: %s)", declared)
		}
		return v1alpha1.TierResult{Result: v1alpha1.ResultNotApplicable, Reason: reason}, false, true, nil
	case planErr != nil:
		msg := rn.masker().String(planErr.Error())
		return v1alpha1.TierResult{Result: v1alpha1.ResultFailed, Reason: "backupbot labels: " + msg, Checks: []v1alpha1.CheckResult{{
			Name: string(stage) + ": backupbot labels", Result: v1alpha1.ResultFailed, Message: msg, Source: v1alpha1.CheckSourceBuiltin}}}, false, true, nil
	}
	note := ""
	if labelled && isDeclared {
		note = fmt.Sprintf("the Recipe declares the tier not applicable (%s), but the head has backupbot labels", declared)
	}
	var archive *v1alpha1.Artifact
	if stage == v1alpha1.StageRestore && labelled {
		b := tr.Status.Tiers[string(v1alpha1.StageBackup)]
		if archive = backupArchive(b); archive == nil || b.Result != v1alpha1.ResultPassed {
			why := string(b.Result)
			if b.Reason != "" {
				why += ": " + b.Reason
			}
			return v1alpha1.TierResult{Result: v1alpha1.ResultSkipped, Reason: "no backup to restore: the backup tier " + why}, false, true, nil
		}
	}
	if err := r.teachMasker(ctx, rn); err != nil {
		return t, false, false, err
	}
	frozen, m, timeout := tr.DeepCopy(), rn.masker(), rc.Spec.DeployTimeout()
	out, done := r.checks.collect(ctx, frozen, string(stage), func(ctx context.Context) outcome {
		var o outcome
		if labelled {
			o = r.backupbot(ctx, frozen, stage, plan, archive, timeout, m)
		}
		o.checks = append(o.checks, r.runChecks(ctx, frozen, rc.Name, m, checks)...)
		return o
	})
	if !done {
		return t, false, false, nil
	}
	t = v1alpha1.TierResult{Result: v1alpha1.ResultPassed, Reason: note, Checks: out.checks, Artifacts: out.artifacts}
	if failed := failedChecks(out.checks); failed != "" {
		t.Result, t.Reason = v1alpha1.ResultFailed, "checks failed: "+failed
	}
	return t, true, true, nil
}

// backupArchive is the archive the backup tier kept, nil when it kept none.
func backupArchive(t v1alpha1.TierResult) *v1alpha1.Artifact {
	for i := range t.Artifacts {
		if t.Artifacts[i].Name == string(v1alpha1.StageBackup) {
			return &t.Artifacts[i]
		}
	}
	return nil
}

// backupbot backs up or restores the run's stack as its backupbot labels ask (in a batch,
// bounded by the recipe's deploy timeout), and reports each step as a built-in check. The backup's archive is kept under the run's
// directory, <data-dir>/runs/<testrun>/backup/<stack>.tar.gz, with its digest in the tier.
// After a restore the stack must converge again and stay so for the settle window: a
// restore that breaks the app fails the tier.
func (r *TestRunReconciler) backupbot(ctx context.Context, tr *v1alpha1.TestRun, stage v1alpha1.Stage, plan stack.BackupPlan, archive *v1alpha1.Artifact, timeout time.Duration, m *mask.Masker) outcome {
	// A hook that hangs must not hold the tier until the run's own timeout.
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dir := results.Dir(r.o.DataDir, tr.Name)
	o := outcome{checks: []v1alpha1.CheckResult{planCheck(string(stage), plan, m)}}
	var res *stack.BackupResult
	switch stage {
	case v1alpha1.StageBackup:
		rel := filepath.Join("backup", tr.Status.Stack+".tar.gz")
		res = r.stacks.Backup(ctx, plan, filepath.Join(dir, rel), tr.UID)
		if a := res.Archive; a != nil {
			o.artifacts = []v1alpha1.Artifact{{Name: string(v1alpha1.StageBackup), Path: rel, SHA256: a.SHA256, Size: a.Size}}
		}
	case v1alpha1.StageRestore:
		res = r.stacks.Restore(ctx, plan, filepath.Join(dir, archive.Path), archive.SHA256, tr.UID)
	}
	for _, s := range res.Steps {
		c := v1alpha1.CheckResult{Name: s.Name, Result: v1alpha1.ResultPassed, Duration: v1alpha1.Duration{Duration: s.Duration},
			Message: m.String(s.Message), Output: maskedTail(m, s.Output), Source: v1alpha1.CheckSourceBuiltin}
		if s.Failed {
			c.Result = v1alpha1.ResultFailed
		}
		o.checks = append(o.checks, c)
		r.eventOn(ctx, tr, m, eventType(c.Result), v1alpha1.ReasonCheck, fmt.Sprintf("check %s %s in %s", c.Name, c.Result, s.Duration.Round(time.Millisecond)))
	}
	if stage == v1alpha1.StageRestore && !res.Failed() {
		o.checks = append(o.checks, r.reconverged(ctx, tr, timeout))
	}
	return o
}

// planCheck reports what the labels asked for as a built-in check that passed.
func planCheck(stage string, plan stack.BackupPlan, m *mask.Masker) v1alpha1.CheckResult {
	var parts []string
	for _, s := range plan.Services {
		var paths []string
		for _, p := range s.Paths {
			paths = append(paths, p.String())
		}
		hooks := 0
		for _, h := range []string{s.Hooks.BackupPre, s.Hooks.BackupPost, s.Hooks.RestorePre, s.Hooks.RestorePost} {
			if h != "" {
				hooks++
			}
		}
		parts = append(parts, fmt.Sprintf("%s: paths [%s], %d hooks", s.Name, strings.Join(paths, ", "), hooks))
	}
	msg := strings.Join(parts, "; ")
	if len(plan.Notes) > 0 {
		msg += "; notes: " + strings.Join(plan.Notes, "; ")
	}
	return v1alpha1.CheckResult{Name: stage + ": backupbot labels", Result: v1alpha1.ResultPassed, Message: m.String(msg), Source: v1alpha1.CheckSourceBuiltin}
}

// reconverged looks at the stack after a restore until every service is converged at a look
// taken at least the settle window after the restore ended, or one fails, or timeout passes.
// It runs in a batch, which may wait: no worker does.
func (r *TestRunReconciler) reconverged(ctx context.Context, tr *v1alpha1.TestRun, timeout time.Duration) v1alpha1.CheckResult {
	start := r.now()
	c := v1alpha1.CheckResult{Name: "restore: converged", Result: v1alpha1.ResultFailed, Source: v1alpha1.CheckSourceBuiltin}
	var memo stack.Memo
	for {
		state, err := r.stacks.Observe(ctx, tr.Status.Stack)
		if err != nil {
			c.Message = fmt.Sprintf("look at the stack after the restore: %v", err)
			break
		}
		targets := liveTargets(state)
		step, err := r.stacks.Look(ctx, targets, memo)
		if err != nil {
			c.Message = fmt.Sprintf("look at the stack after the restore: %v", err)
			break
		}
		memo = step.Memo
		now := r.now()
		if step.Err != nil {
			c.Message = "after the restore: " + step.Err.Error()
			break
		}
		if step.Done && now.Sub(start) >= r.o.RestoreSettle {
			c.Result, c.Message = v1alpha1.ResultPassed, fmt.Sprintf("%d services converged and stayed so for %s after the restore", len(targets), r.o.RestoreSettle)
			break
		}
		if now.Sub(start) > timeout {
			c.Message = fmt.Sprintf("not converged %s after the restore", timeout)
			break
		}
		wait := stack.NextLook(step, now)
		if step.Done {
			wait = min(wait, r.o.RestoreSettle-now.Sub(start))
		}
		select {
		case <-ctx.Done():
			c.Message = "interrupted: " + ctx.Err().Error()
			c.Duration = v1alpha1.Duration{Duration: r.now().Sub(start)}
			return c
		case <-time.After(max(wait, stack.MinLookDelay)):
		}
	}
	c.Duration = v1alpha1.Duration{Duration: r.now().Sub(start)}
	return c
}

// outputMax is how much of a step's output (the tail) a result keeps, as for checks.
const outputMax = 4096

// maskedTail is the end of a step's output, masked before it is cut (a cut secret could not
// be found any more).
func maskedTail(m *mask.Masker, s string) string {
	s = strings.TrimSpace(m.String(s))
	if len(s) > outputMax {
		return "…" + s[len(s)-outputMax:]
	}
	return s
}
