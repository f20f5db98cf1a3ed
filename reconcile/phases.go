package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/internal/mask"
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

// basePhase takes the next step of the base: apply it, look at its convergence, or run the
// install and upgrade.before checks on it. A run without a base only records why.
func (r *TestRunReconciler) basePhase(ctx context.Context, rn *run) (next, error) {
	tr := rn.tr
	if !hasBase(tr) {
		r.setCondition(tr, v1alpha1.ConditionBaseReady, v1alpha1.ConditionTrue, v1alpha1.ReasonNoBase, tr.Status.Base.Reason)
		return again, r.save(ctx, rn)
	}
	if tr.Status.Base.Kind == v1alpha1.BaseWarm {
		return r.warmBase(ctx, rn)
	}
	tier := string(v1alpha1.StageInstall)
	if res, done, err := r.deployStep(ctx, rn, roleBase, tier); !done || err != nil {
		return res, err
	}
	install, err := r.installChecks(ctx, rn, roleBase)
	if err != nil {
		return next{}, withTier(err, tier)
	}
	checks := slices.Clone(install)
	if upgradeWanted(tr) {
		before, err := r.beforeChecks(ctx, rn)
		if err != nil {
			return next{}, err
		}
		checks = append(checks, before...)
	}
	res, done, err := r.collectChecks(ctx, rn, "base", checks)
	if !done || err != nil {
		return after(r.o.CheckPoll), err
	}
	before := res[len(install):]
	if err := r.setInstall(rn, roleBase, res[:len(install)]); err != nil {
		return next{}, err
	}
	if upgradeWanted(tr) {
		setTier(tr, string(v1alpha1.StageUpgrade), v1alpha1.TierResult{Result: v1alpha1.ResultPassed, Reason: upgradePending, Checks: before})
		if failed := failedChecks(before); failed != "" {
			return next{}, &failure{reason: v1alpha1.ReasonCheckFailed, tier: string(v1alpha1.StageUpgrade),
				err: &checkFailure{msg: "upgrade.before checks failed: " + failed}}
		}
	}
	r.setCondition(tr, v1alpha1.ConditionBaseReady, v1alpha1.ConditionTrue, v1alpha1.ReasonConverged,
		fmt.Sprintf("base %s converged", describeBase(*tr.Status.Base)))
	if err := r.save(ctx, rn); err != nil {
		return next{}, err
	}
	r.event(ctx, rn, v1alpha1.EventNormal, v1alpha1.ConditionBaseReady, "base %s converged", describeBase(*tr.Status.Base))
	return again, nil
}

// headPhase takes the next step of the head: apply it over the base (or install it when
// there is no base), look at its convergence, and without a base run the install checks.
func (r *TestRunReconciler) headPhase(ctx context.Context, rn *run) (next, error) {
	tr := rn.tr
	tier := headTier(tr)
	if res, done, err := r.deployStep(ctx, rn, roleHead, tier); !done || err != nil {
		return res, err
	}
	if !hasBase(tr) {
		install, err := r.installChecks(ctx, rn, roleHead)
		if err != nil {
			return next{}, withTier(err, tier)
		}
		res, done, err := r.collectChecks(ctx, rn, "head", install)
		if !done || err != nil {
			return after(r.o.CheckPoll), err
		}
		if err := r.setInstall(rn, roleHead, res); err != nil {
			return next{}, err
		}
	} else if t, ok := tr.Status.Tiers[string(v1alpha1.StageUpgrade)]; ok {
		t.Checks = append(t.Checks, convergence(tr, roleHead))
		setTier(tr, string(v1alpha1.StageUpgrade), t)
	}
	msg := fmt.Sprintf("head %s converged", describeHead(tr.Status.Head.Ref, tr.Status.Head.Commit))
	r.setCondition(tr, v1alpha1.ConditionHeadReady, v1alpha1.ConditionTrue, v1alpha1.ReasonConverged, msg)
	if err := r.save(ctx, rn); err != nil {
		return next{}, err
	}
	r.event(ctx, rn, v1alpha1.EventNormal, v1alpha1.ConditionHeadReady, "%s", msg)
	return again, nil
}

// deployStep takes one step of role's deploy: the apply when the phase has no deploy record,
// else one look at its convergence. done says the deploy has converged (recorded in the
// record's ConvergedAt), so the phase goes on to its checks.
func (r *TestRunReconciler) deployStep(ctx context.Context, rn *run, role, tier string) (next, bool, error) {
	rec := deployRecord(rn.tr, role)
	switch {
	case rec == nil:
		return again, false, withTier(r.apply(ctx, rn, role), tier)
	case rec.ConvergedAt == nil:
		res, err := r.look(ctx, rn, role)
		return res, false, withTier(err, tier)
	}
	return next{}, true, nil
}

// installChecks are the install tier's checks, when the run asks for the tier: the Recipe's,
// then those that role's commit ships (the deploy the install checks run against).
func (r *TestRunReconciler) installChecks(ctx context.Context, rn *run, role string) ([]sourced, error) {
	if !rn.tr.Spec.HasStage(v1alpha1.StageInstall) {
		return nil, nil
	}
	shipped, err := r.shipped(ctx, rn, role)
	if err != nil {
		return nil, err
	}
	return append(fromRecipe(rn.rc.Spec.Checks.Install), from(shippedSource(role), shipped.Install)...), nil
}

// setInstall records the install tier: the built-in convergence check of role's deploy (the
// first that converged) and the install checks' results. Failed checks fail the run.
func (r *TestRunReconciler) setInstall(rn *run, role string, res []v1alpha1.CheckResult) error {
	tr := rn.tr
	if !tr.Spec.HasStage(v1alpha1.StageInstall) {
		return nil
	}
	res = append([]v1alpha1.CheckResult{convergence(tr, role)}, res...)
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
func convergence(tr *v1alpha1.TestRun, role string) v1alpha1.CheckResult {
	c := v1alpha1.CheckResult{Name: "converge: " + role, Result: v1alpha1.ResultPassed, Message: "converged", Source: v1alpha1.CheckSourceBuiltin}
	if rec := deployRecord(tr, role); rec != nil && rec.StartedAt != nil && rec.ConvergedAt != nil {
		c.Duration = v1alpha1.Duration{Duration: rec.ConvergedAt.Sub(rec.StartedAt.Time)}
		c.Message = fmt.Sprintf("%d services converged", len(rec.Targets))
	}
	return c
}

// prepare renders the role's commit (see stack.Pipeline.Prepare) with the layers meant for
// this deploy: the Recipe's env, previous.env on the base only (and only when it applies),
// the TestRun's env; the Recipe's overlays on every deploy, the previous overlays on the base
// only (when they apply); the app labels of a version or a chaos deploy; the run's generated
// secrets. Each render starts from a fresh directory of its own, so nothing of one deploy (or
// of a crashed attempt) reaches another. A render is remembered for the run's later steps.
func (r *TestRunReconciler) prepare(ctx context.Context, rn *run, role string) (*stack.Prepared, error) {
	if pr := rn.mem.prepared[role]; pr != nil {
		return pr, nil
	}
	tr, rc := rn.tr, rn.rc
	req := DeployRequest(tr, rc, role, filepath.Join(results.Dir(r.o.DataDir, tr.Name), role))
	src, err := r.source(ctx, rn)
	if err != nil {
		return nil, err
	}
	req.Source = src
	pr, err := r.stacks.Prepare(ctx, req, rn.masker())
	if err != nil {
		return nil, err
	}
	shipped, err := readShipped(req.Dir, role)
	if err != nil {
		return nil, err
	}
	rn.mem.prepared[role], rn.mem.shipped[role] = pr, shipped
	return pr, nil
}

// ownership labels every object a run creates (of recipe, in role).
func ownership(tr *v1alpha1.TestRun, recipe, role string) map[string]string {
	return map[string]string{
		v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue,
		v1alpha1.LabelTestRun:   tr.Name,
		v1alpha1.LabelRole:      role,
		v1alpha1.LabelRecipe:    recipe,
	}
}

// apply applies role's render and records the phase's DeployRecord, without waiting: the
// next steps look at the convergence. The record is what the first apply did; after a crash
// between an apply and the storing of its record, the repeated apply finds the services
// unchanged (deploy's spec digest) and the services' role labels tell what the first apply
// created or updated.
func (r *TestRunReconciler) apply(ctx context.Context, rn *run, role string) error {
	tr := rn.tr
	pr, err := r.prepare(ctx, rn, role)
	if err != nil {
		return err
	}
	a, err := r.stacks.Apply(ctx, pr)
	if err != nil {
		return err
	}
	rn.mem.applied[role] = a.StartedAt
	created, updated, unchanged := a.Created, a.Updated, a.Unchanged
	if len(unchanged) > 0 {
		created, updated, unchanged = r.resumedApply(ctx, tr, role, created, updated, unchanged)
	}
	commit := tr.Status.Head.Commit
	if role == roleBase {
		commit = tr.Status.Base.Commit
	}
	rec := pr.Record(a, commit)
	rec.Created, rec.Updated, rec.Unchanged = created, updated, unchanged
	for i := range rec.Targets {
		// A service the first apply created or updated is judged as changed by this apply.
		rec.Targets[i].Changed = rec.Targets[i].Changed || slices.Contains(created, rec.Targets[i].Name) || slices.Contains(updated, rec.Targets[i].Name)
	}
	tr.Status.Deploys = append(tr.Status.Deploys, rec)
	if err := r.save(ctx, rn); err != nil {
		return err
	}
	r.event(ctx, rn, v1alpha1.EventNormal, v1alpha1.ReasonApplied, "%s applied: %d created, %d updated, %d unchanged",
		role, len(created), len(updated), len(unchanged))
	return nil
}

// look takes one look at role's deploy and judges it (stack.Pipeline.LookAt): a change since
// the last look is stored in the record's convergence, convergence with its time; a failure,
// or the recipe's deploy timeout counted from the recorded apply, ends the deploy.
func (r *TestRunReconciler) look(ctx context.Context, rn *run, role string) (next, error) {
	tr := rn.tr
	rec := deployRecord(tr, role)
	l, err := r.stacks.LookAt(ctx, rec, rn.rc.Spec.DeployTimeout(), r.now())
	if err != nil {
		return next{}, err
	}
	if r.o.Progress != nil {
		for _, p := range l.Changes() {
			r.o.Progress(Progress{TestRun: tr.Name, Role: role, Service: &p})
		}
	}
	if l.Err != nil {
		return next{}, fmt.Errorf("wait for %s: %w", role, l.Err)
	}
	if l.Changed {
		if err := r.save(ctx, rn); err != nil {
			return next{}, err
		}
	}
	if !l.Done {
		return after(l.Again), nil
	}
	start, ok := rn.mem.applied[role]
	if !ok {
		start = rec.StartedAt.Time
	}
	took := rec.ConvergedAt.Sub(start)
	r.o.Observer.DeployConverged(role, took)
	if r.o.Progress != nil {
		r.o.Progress(Progress{TestRun: tr.Name, Role: role, Converged: took})
	}
	logr.FromContextOrDiscard(ctx).Info("deploy converged", "role", role, "after", took)
	return again, nil
}

// resumedApply tells, after a crash between an apply and the storing of its record, which of
// the services the repeated apply found unchanged the first apply created or updated: those
// that carry this run's and this role's labels (the role label changes with every phase's
// apply), created when the engine never updated them since.
func (r *TestRunReconciler) resumedApply(ctx context.Context, tr *v1alpha1.TestRun, role string, created, updated, unchanged []string) ([]string, []string, []string) {
	state, err := r.stacks.Observe(ctx, tr.Status.Stack)
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

// collectChecks runs checks one after the other against the run's stack, in the background
// (see checkBatches): the first call starts them, a later one returns their results once
// all ran. The one-shot services of the checks carry the run's ownership labels, so that
// they are told apart from other runs' and garbage collection knows whose they are. The
// render of the head (or the base, before the head is applied) teaches the masker the run's
// generated secrets before any output is kept.
func (r *TestRunReconciler) collectChecks(ctx context.Context, rn *run, batch string, list []sourced) ([]v1alpha1.CheckResult, bool, error) {
	if len(list) == 0 {
		return nil, true, nil
	}
	if err := r.teachMasker(ctx, rn); err != nil {
		return nil, false, err
	}
	tr, m := rn.tr.DeepCopy(), rn.masker()
	out, done := r.checks.collect(ctx, tr, batch, func(ctx context.Context) outcome {
		return outcome{checks: r.runChecks(ctx, tr, rn.rc.Name, m, list)}
	})
	return out.checks, done, nil
}

// teachMasker prepares the render of the head (or the base, before the head is applied), so
// that the masker knows the run's generated secrets before a batch keeps any output.
func (r *TestRunReconciler) teachMasker(ctx context.Context, rn *run) error {
	role := roleHead
	if deployRecord(rn.tr, roleHead) == nil {
		role = roleBase
	}
	_, err := r.prepare(ctx, rn, role)
	return err
}

// runChecks runs list one after the other against tr's stack (in a batch), each result
// masked and saying where its check came from.
func (r *TestRunReconciler) runChecks(ctx context.Context, tr *v1alpha1.TestRun, recipe string, m *mask.Masker, list []sourced) []v1alpha1.CheckResult {
	labels := ownership(tr, recipe, v1alpha1.RoleCheck)
	var out []v1alpha1.CheckResult
	for _, c := range list {
		res := r.o.Checks.Run(ctx, tr.Status.Stack, c.check, labels, m)
		res.Message, res.Output, res.Source = m.String(res.Message), m.String(res.Output), c.source
		out = append(out, res)
		r.eventOn(ctx, tr, m, eventType(res.Result), v1alpha1.ReasonCheck,
			fmt.Sprintf("check %s %s in %s", res.Name, res.Result, res.Duration.Duration.Round(1e6)))
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
func prefixed(prefix string, checks []sourced) []sourced {
	out := make([]sourced, len(checks))
	for i, c := range checks {
		c.check.Name = prefix + ": " + c.check.Name
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
	if err == nil {
		return nil
	}
	var f *failure
	if errors.As(err, &f) {
		if f.tier == "" {
			f.tier = tier
		}
		return f
	}
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
