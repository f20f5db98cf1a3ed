package reconcile

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/stack"
)

// prune removes the services the head does not declare. A head whose compose cannot be
// rendered prunes nothing and fails the run (deploy refuses to prune without a render).
func (r *TestRunReconciler) prune(ctx context.Context, rn *run) error {
	tr := rn.tr
	pr, renderErr := r.prepare(ctx, rn, roleHead)
	removed, err := r.stacks.Prune(ctx, tr.Status.Stack, pr, renderErr)
	if err != nil {
		return withTier(fmt.Errorf("prune: %w", err), headTier(tr))
	}
	// Counted as they go, whatever becomes of this step: a repeat finds them gone.
	r.o.Observer.ServicesPruned(roleHead, len(removed))
	// A prune resumed after a crash finds nothing left to remove. The services the head
	// dropped from the base are gone now either way, so they are what was pruned.
	tr.Status.Pruned = sortedUnion(tr.Status.Pruned, removed)
	if pr != nil {
		tr.Status.Pruned = sortedUnion(tr.Status.Pruned, dropped(tr, pr))
	}
	msg := "nothing to prune"
	if len(tr.Status.Pruned) > 0 {
		msg = "removed " + strings.Join(tr.Status.Pruned, ", ")
	}
	r.setCondition(tr, v1alpha1.ConditionPruned, v1alpha1.ConditionTrue, v1alpha1.ReasonPruned, msg)
	if err := r.save(ctx, rn); err != nil {
		return err
	}
	r.event(ctx, rn, v1alpha1.EventNormal, v1alpha1.ConditionPruned, "%s", msg)
	return nil
}

// dropped are the services of the base deploy that the head does not declare.
func dropped(tr *v1alpha1.TestRun, head *stack.Prepared) []string {
	base := deployRecord(tr, roleBase)
	if base == nil {
		return nil
	}
	var out []string
	for _, img := range base.Images {
		if _, ok := head.Services[img.Service]; !ok {
			out = append(out, img.Service)
		}
	}
	return out
}

// verify proves that the stack is the head: its built-in checks, then the upgrade.after
// checks (in the background: a first call starts them, a later one collects them). It
// finishes the upgrade tier (or, without a base, the install tier's deploy).
func (r *TestRunReconciler) verify(ctx context.Context, rn *run) (next, error) {
	tr := rn.tr
	tier := headTier(tr)
	pr, err := r.prepare(ctx, rn, roleHead)
	if err != nil {
		return next{}, withTier(err, tier)
	}
	var afterChecks []sourced
	if upgradeWanted(tr) {
		afterChecks = prefixed("after", append(fromRecipe(rn.rc.Spec.Checks.Upgrade.After),
			from(v1alpha1.CheckSourceHead, rn.mem.shipped[roleHead].Upgrade.After)...))
	}
	checked, done, err := r.collectChecks(ctx, rn, "verify", afterChecks)
	if err != nil {
		return next{}, err
	}
	if !done {
		return after(r.o.CheckPoll), nil
	}
	state, err := r.stacks.Observe(ctx, tr.Status.Stack)
	if err != nil {
		return next{}, fmt.Errorf("verify: %w", err)
	}
	// One look at the live services gives their tasks: which image each one runs.
	step, err := r.stacks.Look(ctx, liveTargets(state), stack.Memo{})
	if err != nil {
		return next{}, fmt.Errorf("verify: %w", err)
	}
	builtin := verifyHead(tr, pr, state, step.Report, r.stacks.AppService())
	for i := range builtin {
		builtin[i].Message = rn.masker().String(builtin[i].Message)
	}
	res := append(builtin, checked...)
	failed := failedChecks(res)
	if tier == string(v1alpha1.StageUpgrade) {
		prev := tr.Status.Tiers[tier]
		t := v1alpha1.TierResult{Result: v1alpha1.ResultPassed, Checks: append(slices.Clone(prev.Checks), res...)}
		if failed != "" {
			t.Result, t.Reason = v1alpha1.ResultFailed, "failed: "+failed
		}
		setTier(tr, tier, t)
	} else if t, ok := tr.Status.Tiers[tier]; ok {
		t.Checks = append(t.Checks, res...)
		if failed != "" {
			t.Result, t.Reason = v1alpha1.ResultFailed, "failed: "+failed
		}
		setTier(tr, tier, t)
	}
	if failed != "" {
		reason := v1alpha1.ReasonCheckFailed
		if failedChecks(builtin) != "" {
			reason = v1alpha1.ReasonVerifyFailed
		}
		return next{}, &failure{reason: reason, tier: tier, err: &verifyFailure{msg: "verify failed: " + failed}}
	}
	r.setCondition(tr, v1alpha1.ConditionVerified, v1alpha1.ConditionTrue, v1alpha1.ReasonVerified, "the stack runs the head")
	if err := r.save(ctx, rn); err != nil {
		return next{}, err
	}
	r.event(ctx, rn, v1alpha1.EventNormal, v1alpha1.ConditionVerified, "the stack runs the head %s", shortSHA(tr.Status.Head.Commit))
	return again, nil
}

// headTier is the tier the head's deploy belongs to: upgrade over a base, install without.
func headTier(tr *v1alpha1.TestRun) string {
	if hasBase(tr) {
		return string(v1alpha1.StageUpgrade)
	}
	return string(v1alpha1.StageInstall)
}

// liveTargets are the live services of a stack (but checks) as convergence targets.
func liveTargets(state *stack.State) []stack.Target {
	var out []stack.Target
	for _, s := range state.Services {
		if s.Labels[v1alpha1.LabelRole] == v1alpha1.RoleCheck {
			continue
		}
		out = append(out, stack.Target{ServiceID: s.ID, Name: s.Name, PrevVersion: s.Version})
	}
	return out
}

// verifyHead is the built-in verification, pure over what was observed: every service runs
// the head compose's image (label, spec and tasks), the live service set is the head's, the
// app's version label is the head compose's and its chaos-version the head commit, and each
// phase was deployed once.
func verifyHead(tr *v1alpha1.TestRun, pr *stack.Prepared, state *stack.State, report *stack.Report, app string) []v1alpha1.CheckResult {
	check := func(name string, problems []string) v1alpha1.CheckResult {
		c := v1alpha1.CheckResult{Name: "verify: " + name, Result: v1alpha1.ResultPassed, Source: v1alpha1.CheckSourceBuiltin}
		if len(problems) > 0 {
			c.Result, c.Message = v1alpha1.ResultFailed, strings.Join(problems, "; ")
		}
		return c
	}
	tasks := map[string][]stack.TaskSummary{}
	if report != nil {
		for _, s := range report.Services {
			tasks[s.Name] = s.Tasks
		}
	}

	var images, set, labels, once []string
	live := map[string]stack.ServiceState{}
	for _, s := range state.Services {
		if s.Labels[v1alpha1.LabelRole] == v1alpha1.RoleCheck {
			continue
		}
		live[s.Name] = s
	}
	for _, name := range slices.Sorted(maps.Keys(live)) {
		if _, ok := pr.Services[name]; !ok {
			set = append(set, fmt.Sprintf("%s runs but the head does not declare it", name))
		}
	}
	for _, name := range pr.ServiceNames() {
		s, ok := live[name]
		if !ok {
			set = append(set, fmt.Sprintf("%s is declared by the head but not running", name))
			continue
		}
		want := pr.Services[name].Image
		if s.ComposeImage != want {
			images = append(images, fmt.Sprintf("%s: label image %s, head has %s", name, s.ComposeImage, want))
		}
		if !sameImage(s.Image, want) {
			images = append(images, fmt.Sprintf("%s: spec image %s, head has %s", name, s.Image, want))
		}
		for _, tk := range tasks[name] {
			if tk.UpToDate && tk.State == "running" && !sameImage(tk.Image, want) {
				images = append(images, fmt.Sprintf("%s: task %s runs %s, head has %s", name, tk.ID, tk.Image, want))
			}
		}
	}

	name := tr.Status.Stack
	if s, ok := live[name+"_"+app]; ok {
		wantVersion := pr.Services[name+"_"+app].Labels[stack.LabelVersion(name)]
		if got := s.Labels[stack.LabelVersion(name)]; got != wantVersion {
			labels = append(labels, fmt.Sprintf("version label %q, head compose has %q", got, wantVersion))
		}
		if got, want := s.Labels[stack.LabelChaosVersion(name)], tr.Status.Head.ChaosVersion; got != want {
			labels = append(labels, fmt.Sprintf("chaos-version %q, head commit is %q", got, want))
		}
	}

	count := map[string]int{}
	for _, d := range tr.Status.Deploys {
		count[d.Role]++
	}
	wantBase := 0
	if hasBase(tr) && tr.Status.Base.Kind != v1alpha1.BaseWarm {
		// A warm base is a copy of the warm stack's data, not a deploy.
		wantBase = 1
	}
	if count[roleBase] != wantBase || count[roleHead] != 1 {
		once = append(once, fmt.Sprintf("%d base and %d head deploys recorded, want %d and 1", count[roleBase], count[roleHead], wantBase))
	}
	return []v1alpha1.CheckResult{
		check("head images", images),
		check("service set", set),
		check("labels", labels),
		check("one rollout per phase", once),
	}
}

// sameImage reports whether a running image is the compose image, possibly pinned to a
// digest by the engine.
func sameImage(running, compose string) bool {
	return running == compose || strings.HasPrefix(running, compose+"@")
}

func sortedUnion(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

func joinNames(names []string) string { return strings.Join(names, ", ") }
