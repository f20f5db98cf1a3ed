package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/checks"
	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/render"
	"github.com/swarmrun/swarmrun/reconcile/results"
)

// upgradePending is the upgrade tier's reason between the base's before checks and the
// head's verification.
const upgradePending = "upgrade pending"

// Roles of a run's deploys, as in DeployRecord.Role and the swarmrun.dev/role label.
const (
	roleBase = v1alpha1.RoleBase
	roleHead = v1alpha1.RoleHead
)

// deployBase deploys the upgrade base, waits for it, and runs the install and upgrade.before
// checks on it. A run without a base only records why.
func (r *TestRunReconciler) deployBase(ctx context.Context, rn *run) error {
	tr := rn.tr
	if !hasBase(tr) {
		r.setCondition(tr, v1alpha1.ConditionBaseReady, v1alpha1.ConditionTrue, "NoBase", tr.Status.Base.Reason)
		return r.save(ctx, rn)
	}
	st, err := r.prepare(ctx, rn, roleBase)
	if err != nil {
		return withTier(err, string(v1alpha1.StageInstall))
	}
	if err := r.deploy(ctx, rn, roleBase, st); err != nil {
		return withTier(err, string(v1alpha1.StageInstall))
	}
	if err := r.installChecks(ctx, rn, roleBase); err != nil {
		return err
	}
	if upgradeWanted(tr) {
		before := prefixed("before", rn.rc.Spec.Checks.Upgrade.Before)
		res := r.runChecks(ctx, rn, before)
		tier := v1alpha1.TierResult{Result: v1alpha1.ResultPassed, Reason: upgradePending, Checks: res}
		setTier(tr, string(v1alpha1.StageUpgrade), tier)
		if failed := failedChecks(res); failed != "" {
			return &failure{reason: v1alpha1.ReasonCheckFailed, tier: string(v1alpha1.StageUpgrade),
				err: &checkFailure{msg: "upgrade.before checks failed: " + failed}}
		}
	}
	r.setCondition(tr, v1alpha1.ConditionBaseReady, v1alpha1.ConditionTrue, "Converged",
		fmt.Sprintf("base %s converged", describeBase(*tr.Status.Base)))
	if err := r.save(ctx, rn); err != nil {
		return err
	}
	r.event(ctx, rn, v1alpha1.EventNormal, "BaseReady", "base %s converged", describeBase(*tr.Status.Base))
	return nil
}

// deployHead applies the head over the base (or installs it when there is no base) and waits
// for it. Without a base the install checks run here.
func (r *TestRunReconciler) deployHead(ctx context.Context, rn *run) error {
	tr := rn.tr
	tier := string(v1alpha1.StageInstall)
	if hasBase(tr) {
		tier = string(v1alpha1.StageUpgrade)
	}
	st, err := r.prepare(ctx, rn, roleHead)
	if err != nil {
		return withTier(err, tier)
	}
	if err := r.deploy(ctx, rn, roleHead, st); err != nil {
		return withTier(err, tier)
	}
	if !hasBase(tr) {
		if err := r.installChecks(ctx, rn, roleHead); err != nil {
			return err
		}
	} else if t, ok := tr.Status.Tiers[string(v1alpha1.StageUpgrade)]; ok {
		t.Checks = append(t.Checks, rn.convergence(roleHead))
		setTier(tr, string(v1alpha1.StageUpgrade), t)
	}
	msg := fmt.Sprintf("head %s at %s converged", tr.Status.Head.Ref, shortSHA(tr.Status.Head.Commit))
	r.setCondition(tr, v1alpha1.ConditionHeadReady, v1alpha1.ConditionTrue, "Converged", msg)
	if err := r.save(ctx, rn); err != nil {
		return err
	}
	r.event(ctx, rn, v1alpha1.EventNormal, "HeadReady", "%s", msg)
	return nil
}

// installChecks runs the install tier's checks on the first deploy that converged (role's),
// after the built-in convergence check.
func (r *TestRunReconciler) installChecks(ctx context.Context, rn *run, role string) error {
	tr := rn.tr
	if !tr.Spec.HasStage(v1alpha1.StageInstall) {
		return nil
	}
	res := append([]v1alpha1.CheckResult{rn.convergence(role)}, r.runChecks(ctx, rn, rn.rc.Spec.Checks.Install)...)
	tier := v1alpha1.TierResult{Result: v1alpha1.ResultPassed, Checks: res}
	failed := failedChecks(res)
	if failed != "" {
		tier.Result, tier.Reason = v1alpha1.ResultFailed, "checks failed: "+failed
	}
	setTier(tr, string(v1alpha1.StageInstall), tier)
	if failed != "" {
		return &failure{reason: v1alpha1.ReasonCheckFailed, tier: string(v1alpha1.StageInstall),
			err: &checkFailure{msg: "install checks failed: " + failed}}
	}
	return nil
}

// convergence is the built-in check that role's deploy converged, with the time it took.
func (rn *run) convergence(role string) v1alpha1.CheckResult {
	c := v1alpha1.CheckResult{Name: "converge: " + role, Result: v1alpha1.ResultPassed, Message: "converged"}
	if rep := rn.reports[role]; rep != nil {
		c.Duration = v1alpha1.Duration{Duration: rep.Elapsed}
		c.Message = fmt.Sprintf("%d services converged", len(rep.Services))
	}
	return c
}

// prepare materialises the role's commit into the run's own directory for that deploy and
// renders it (see stacks.render) with the layers meant for this deploy: the Recipe's env,
// previous.env on the base only (and only when it applies), the TestRun's env; the Recipe's
// overlays on every deploy, the previous overlays on the base only (when they apply); the
// app labels of a version or a chaos deploy; the run's generated secrets. Each call starts
// from a fresh directory, so nothing of one deploy (or of a crashed attempt) reaches another.
func (r *TestRunReconciler) prepare(ctx context.Context, rn *run, role string) (*render.Stack, error) {
	if st := rn.renders[role]; st != nil {
		return st, nil
	}
	tr, rc := rn.tr, rn.rc
	d := deploySpec{
		what:     role,
		stack:    tr.Status.Stack,
		commit:   tr.Status.Head.Commit,
		dir:      filepath.Join(results.Dir(r.o.DataDir, tr.Name), role),
		env:      []map[string]string{rc.Spec.Env},
		overlays: raw(rc.Spec.Overlays),
		seed:     tr.UID,
		labels:   ownership(tr, rc, role),
	}
	d.app = recipe.AppDeploy{Stack: d.stack, Recipe: rc.Name, Commit: d.commit, Chaos: true}
	if role == roleBase {
		base := *tr.Status.Base
		d.commit, d.app.Commit = base.Commit, base.Commit
		if base.Kind == v1alpha1.BaseVersion {
			d.app.Chaos, d.app.Version = false, base.Version
		}
		if PreviousFor(base, rc.Spec.Previous).Applies {
			d.env = append(d.env, rc.Spec.Previous.Env)
			d.overlays = append(d.overlays, raw(rc.Spec.Previous.Overlays)...)
		}
	}
	d.env = append(d.env, tr.Spec.Env)
	src, err := r.source(ctx, rn)
	if err != nil {
		return nil, err
	}
	st, files, err := r.stacks.render(ctx, src, d, rn.masker)
	if err != nil {
		return nil, err
	}
	rn.renders[role] = st
	rn.files[role] = files
	return st, nil
}

// appLabels is the overlay fragment that puts the coop-cloud labels on the app service's
// deploy labels, as abra does.
func appLabels(service string, labels map[string]string) ([]byte, error) {
	frag := map[string]any{"services": map[string]any{service: map[string]any{"deploy": map[string]any{"labels": labels}}}}
	b, err := json.Marshal(frag)
	if err != nil {
		return nil, fmt.Errorf("app labels: %w", err)
	}
	return b, nil
}

// ownership labels every object a run creates.
func ownership(tr *v1alpha1.TestRun, rc *v1alpha1.Recipe, role string) map[string]string {
	return map[string]string{
		v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue,
		v1alpha1.LabelTestRun:   tr.Name,
		v1alpha1.LabelRole:      role,
		v1alpha1.LabelRecipe:    rc.Name,
	}
}

// deploy applies one role's render and waits for it to converge. The phase's DeployRecord is
// stored right after the apply, before the wait, and never rewritten but for its convergence
// time: after a crash the re-apply finds every service unchanged (deploy's spec digest), and
// the record keeps what the first apply did.
func (r *TestRunReconciler) deploy(ctx context.Context, rn *run, role string, st *render.Stack) error {
	tr := rn.tr
	log := logr.FromContextOrDiscard(ctx).WithValues("role", role)
	cs, err := r.o.Deployer.Apply(ctx, st, deploy.ApplyOptions{Labels: ownership(tr, rn.rc, role)})
	if err != nil {
		return fmt.Errorf("apply %s: %w", role, err)
	}
	rec := deployRecord(tr, role)
	if rec == nil {
		created, updated, unchanged := changed(cs)
		if len(unchanged) > 0 {
			created, updated, unchanged = r.resumedApply(ctx, tr, role, created, updated, unchanged)
		}
		started := v1alpha1.Time{Time: cs.StartedAt}
		commit := tr.Status.Head.Commit
		if role == roleBase {
			commit = tr.Status.Base.Commit
		}
		tr.Status.Deploys = append(tr.Status.Deploys, v1alpha1.DeployRecord{
			Role: role, Commit: commit, ComposeFiles: rn.files[role], RenderDigest: st.Digest,
			Images: imageRecords(st, cs.Images), Created: created, Updated: updated, Unchanged: unchanged,
			StartedAt: &started,
		})
		if err := r.save(ctx, rn); err != nil {
			return err
		}
		r.event(ctx, rn, v1alpha1.EventNormal, "Applied", "%s applied: %d created, %d updated, %d unchanged",
			role, len(created), len(updated), len(unchanged))
	} else {
		log.Info("deploy resumed", "recorded", rec.StartedAt)
		// The record's apply already rolled the phase out: a resumed apply finds every
		// service unchanged unless the swarm moved since, and then rolls it out again.
		if created, updated, _ := changed(cs); len(created)+len(updated) > 0 {
			rec.Rollouts++
			if err := r.save(ctx, rn); err != nil {
				return err
			}
			r.event(ctx, rn, v1alpha1.EventWarning, "RolledOutAgain", "%s rolled out again on resume: %d created, %d updated",
				role, len(created), len(updated))
		}
	}
	wo := r.stacks.waitOptions(rn.rc)
	if rec != nil && rec.StartedAt != nil {
		wo.Timeout = resumedBound(wo.Timeout, rec.StartedAt.Time, r.now())
	}
	if r.o.Progress != nil {
		wo.Progress = func(p converge.Progress) {
			r.o.Progress(Progress{TestRun: tr.Name, Role: role, Service: &p})
		}
	}
	report, err := r.o.Deployer.Wait(ctx, cs, wo)
	rn.reports[role] = report
	if err != nil {
		return fmt.Errorf("wait for %s: %w", role, err)
	}
	if r.o.Progress != nil {
		r.o.Progress(Progress{TestRun: tr.Name, Role: role, Converged: r.now().Sub(cs.StartedAt)})
	}
	if rec = deployRecord(tr, role); rec != nil && rec.ConvergedAt == nil {
		done := v1alpha1.Time{Time: r.now()}
		rec.ConvergedAt = &done
	}
	return nil
}

// resumedBound is what is left of a deploy's convergence bound when its phase's apply was
// recorded at started: a resumed wait gets the rest, not a fresh bound, so that crashes and
// restarts cannot stretch a deploy past its timeout. A bound already spent keeps a nanosecond,
// which leaves the wait its one last look (converge.Wait) rather than no bound at all (zero).
func resumedBound(timeout time.Duration, started, now time.Time) time.Duration {
	if timeout <= 0 {
		return timeout
	}
	elapsed := max(now.Sub(started), 0)
	return max(timeout-elapsed, time.Nanosecond)
}

// resumedApply tells, after a crash between an apply and the storing of its record, which of
// the services the repeated apply found unchanged the first apply created or updated: those
// that carry this run's and this role's labels (the role label changes with every phase's
// apply), created when the engine never updated them since.
func (r *TestRunReconciler) resumedApply(ctx context.Context, tr *v1alpha1.TestRun, role string, created, updated, unchanged []string) ([]string, []string, []string) {
	state, err := r.o.Deployer.Observe(ctx, tr.Status.Stack)
	if err != nil {
		logr.FromContextOrDiscard(ctx).V(1).Info("deploy record from the apply alone", "error", err.Error())
		return created, updated, unchanged
	}
	var still []string
	for _, name := range unchanged {
		svc, ok := state.Service(name)
		switch {
		case !ok || svc.Labels[v1alpha1.LabelRole] != role || svc.Labels[v1alpha1.LabelTestRun] != tr.Name:
			still = append(still, name)
		case svc.CreatedAt.Equal(svc.UpdatedAt):
			created = append(created, name)
		default:
			updated = append(updated, name)
		}
	}
	slices.Sort(created)
	slices.Sort(updated)
	return created, updated, still
}

// deployRecord is the run's record of role's deploy, nil when there is none yet.
func deployRecord(tr *v1alpha1.TestRun, role string) *v1alpha1.DeployRecord {
	for i := range tr.Status.Deploys {
		if tr.Status.Deploys[i].Role == role {
			return &tr.Status.Deploys[i]
		}
	}
	return nil
}

func changed(cs *deploy.ChangeSet) (created, updated, unchanged []string) {
	for _, c := range cs.Services {
		switch c.Action {
		case deploy.Created:
			created = append(created, c.Name)
		case deploy.Updated:
			updated = append(updated, c.Name)
		default:
			unchanged = append(unchanged, c.Name)
		}
	}
	return created, updated, unchanged
}

// imageRecords lists each service's image with what the engine knows of its digest: the
// registry digest of a pulled image, else the local image's repo digest or ID.
func imageRecords(st *render.Stack, infos []deploy.ImageInfo) []v1alpha1.ImageRecord {
	digests := map[string]string{}
	for _, info := range infos {
		switch {
		case info.Digest != "":
			digests[info.Image] = info.Digest
		case len(info.RepoDigests) > 0:
			digests[info.Image] = info.RepoDigests[0]
		default:
			digests[info.Image] = info.ID
		}
	}
	var out []v1alpha1.ImageRecord
	for _, name := range slices.Sorted(maps.Keys(st.Images)) {
		img := st.Images[name]
		out = append(out, v1alpha1.ImageRecord{Service: name, Image: img, Digest: digests[img]})
	}
	return out
}

// labelledChecks is a CheckRunner that labels the services of its checks per caller;
// *checks.Runner is one.
type labelledChecks interface {
	WithLabels(labels map[string]string) *checks.Runner
}

// runChecks runs checks one after the other against the run's stack. The one-shot services
// of the checks carry the run's ownership labels, so that they are told apart from other
// runs' and garbage collection knows whose they are.
func (r *TestRunReconciler) runChecks(ctx context.Context, rn *run, list []v1alpha1.Check) []v1alpha1.CheckResult {
	runner := r.o.Checks
	if l, ok := runner.(labelledChecks); ok {
		runner = l.WithLabels(ownership(rn.tr, rn.rc, v1alpha1.RoleCheck))
	}
	var out []v1alpha1.CheckResult
	for _, c := range list {
		res := runner.Run(ctx, rn.tr.Status.Stack, c, rn.masker)
		res.Message, res.Output = rn.masker.String(res.Message), rn.masker.String(res.Output)
		out = append(out, res)
		r.event(ctx, rn, eventType(res.Result), "Check", "check %s %s in %s", res.Name, res.Result, res.Duration.Duration.Round(1e6))
	}
	return out
}

func eventType(res v1alpha1.TierResultValue) v1alpha1.EventType {
	if res == v1alpha1.ResultFailed {
		return v1alpha1.EventWarning
	}
	return v1alpha1.EventNormal
}

// prefixed names checks after the moment they run at (before/after the upgrade).
func prefixed(prefix string, checks []v1alpha1.Check) []v1alpha1.Check {
	out := make([]v1alpha1.Check, len(checks))
	for i, c := range checks {
		c.Name = prefix + ": " + c.Name
		out[i] = c
	}
	return out
}

// failedChecks names the checks that failed, empty when none did.
func failedChecks(res []v1alpha1.CheckResult) string {
	var names []string
	for _, c := range res {
		if c.Result == v1alpha1.ResultFailed {
			names = append(names, c.Name)
		}
	}
	return joinNames(names)
}

func setTier(tr *v1alpha1.TestRun, tier string, res v1alpha1.TierResult) {
	if tr.Status.Tiers == nil {
		tr.Status.Tiers = map[string]v1alpha1.TierResult{}
	}
	tr.Status.Tiers[tier] = res
}

// upgradeWanted reports whether the upgrade tier runs: asked for, applicable, with a base.
func upgradeWanted(tr *v1alpha1.TestRun) bool {
	return tr.Spec.HasStage(v1alpha1.StageUpgrade) && hasBase(tr)
}

// withTier attaches the tier to a step's error: a run failure when the error is final.
func withTier(err error, tier string) error {
	if reason, final := reasonFor(err); final {
		return &failure{reason: reason, tier: tier, err: err}
	}
	return err
}

func raw(msgs []json.RawMessage) [][]byte {
	out := make([][]byte, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, []byte(m))
	}
	return out
}
