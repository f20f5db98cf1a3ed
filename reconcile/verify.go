package reconcile

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/render"
)

// prune removes the services the head does not declare. A head whose compose cannot be
// rendered prunes nothing and fails the run (deploy refuses to prune without a render).
func (r *TestRunReconciler) prune(ctx context.Context, rn *run) error {
	tr := rn.tr
	st, renderErr := r.prepare(ctx, rn, roleHead)
	removed, err := r.o.Deployer.Prune(ctx, tr.Status.Stack, st, renderErr)
	if err != nil {
		return withTier(fmt.Errorf("prune: %w", err), headTier(tr))
	}
	// A prune resumed after a crash finds nothing left to remove. The services the head
	// dropped from the base are gone now either way, so they are what was pruned.
	tr.Status.Pruned = sortedUnion(tr.Status.Pruned, removed)
	if st != nil {
		tr.Status.Pruned = sortedUnion(tr.Status.Pruned, dropped(tr, st))
	}
	msg := "nothing to prune"
	if len(tr.Status.Pruned) > 0 {
		msg = "removed " + strings.Join(tr.Status.Pruned, ", ")
	}
	r.setCondition(tr, v1alpha1.ConditionPruned, v1alpha1.ConditionTrue, "Pruned", msg)
	if err := r.save(ctx, rn); err != nil {
		return err
	}
	r.event(ctx, rn, v1alpha1.EventNormal, "Pruned", "%s", msg)
	return nil
}

// dropped are the services of the base deploy that the head does not declare.
func dropped(tr *v1alpha1.TestRun, head *render.Stack) []string {
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
// checks. It finishes the upgrade tier (or, without a base, the install tier's deploy).
func (r *TestRunReconciler) verify(ctx context.Context, rn *run) error {
	tr := rn.tr
	tier := headTier(tr)
	st, err := r.prepare(ctx, rn, roleHead)
	if err != nil {
		return withTier(err, tier)
	}
	state, err := r.o.Deployer.Observe(ctx, tr.Status.Stack)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	report := rn.reports[roleHead]
	if report == nil {
		// Resumed after the head converged: one look at the live services gives their tasks.
		report, err = r.o.Deployer.Wait(ctx, observedChangeSet(state), r.stacks.waitOptions(rn.rc))
		if err != nil {
			return withTier(fmt.Errorf("verify: %w", err), tier)
		}
	}
	builtin := verifyHead(tr, st, state, report, r.o.AppService)
	for i := range builtin {
		builtin[i].Message = rn.masker.String(builtin[i].Message)
	}
	res := builtin
	if upgradeWanted(tr) {
		res = append(res, r.runChecks(ctx, rn, prefixed("after", rn.rc.Spec.Checks.Upgrade.After))...)
	}
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
		return &failure{reason: reason, tier: tier, err: &verifyFailure{msg: "verify failed: " + failed}}
	}
	r.setCondition(tr, v1alpha1.ConditionVerified, v1alpha1.ConditionTrue, "Verified", "the stack runs the head")
	if err := r.save(ctx, rn); err != nil {
		return err
	}
	r.event(ctx, rn, v1alpha1.EventNormal, "Verified", "the stack runs the head %s", shortSHA(tr.Status.Head.Commit))
	return nil
}

// headTier is the tier the head's deploy belongs to: upgrade over a base, install without.
func headTier(tr *v1alpha1.TestRun) string {
	if hasBase(tr) {
		return string(v1alpha1.StageUpgrade)
	}
	return string(v1alpha1.StageInstall)
}

// observedChangeSet lets Wait judge the live services of a stack as they are.
func observedChangeSet(state *deploy.StackState) *deploy.ChangeSet {
	cs := &deploy.ChangeSet{Stack: state.Name}
	for _, s := range state.Services {
		if s.Labels[v1alpha1.LabelRole] == v1alpha1.RoleCheck {
			continue
		}
		cs.Services = append(cs.Services, deploy.Change{Kind: deploy.KindService, Name: s.Name, ID: s.ID,
			Action: deploy.Unchanged, PrevVersion: s.Version})
	}
	return cs
}

// verifyHead is the built-in verification, pure over what was observed: every service runs
// the head compose's image (label, spec and tasks), the live service set is the head's, the
// app's version label is the head compose's and its chaos-version the head commit, and each
// phase was deployed once.
func verifyHead(tr *v1alpha1.TestRun, st *render.Stack, state *deploy.StackState, report *converge.Report, app string) []v1alpha1.CheckResult {
	check := func(name string, problems []string) v1alpha1.CheckResult {
		c := v1alpha1.CheckResult{Name: "verify: " + name, Result: v1alpha1.ResultPassed}
		if len(problems) > 0 {
			c.Result, c.Message = v1alpha1.ResultFailed, strings.Join(problems, "; ")
		}
		return c
	}
	tasks := map[string][]converge.TaskSummary{}
	if report != nil {
		for _, s := range report.Services {
			tasks[s.Name] = s.Tasks
		}
	}

	var images, set, labels, once []string
	live := map[string]deploy.ServiceState{}
	for _, s := range state.Services {
		if s.Labels[v1alpha1.LabelRole] == v1alpha1.RoleCheck {
			continue
		}
		live[s.Name] = s
	}
	for _, name := range slices.Sorted(maps.Keys(live)) {
		if _, ok := st.Services[name]; !ok {
			set = append(set, fmt.Sprintf("%s runs but the head does not declare it", name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(st.Services)) {
		s, ok := live[name]
		if !ok {
			set = append(set, fmt.Sprintf("%s is declared by the head but not running", name))
			continue
		}
		want := st.Images[name]
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

	stack := tr.Status.Stack
	if s, ok := live[stack+"_"+app]; ok {
		wantVersion := st.Services[stack+"_"+app].Labels[recipe.LabelVersion(stack)]
		if got := s.Labels[recipe.LabelVersion(stack)]; got != wantVersion {
			labels = append(labels, fmt.Sprintf("version label %q, head compose has %q", got, wantVersion))
		}
		if got, want := s.Labels[recipe.LabelChaosVersion(stack)], tr.Status.Head.ChaosVersion; got != want {
			labels = append(labels, fmt.Sprintf("chaos-version %q, head commit is %q", got, want))
		}
	}

	count := map[string]int{}
	for _, d := range tr.Status.Deploys {
		count[d.Role]++
		if d.Rollouts > 0 {
			once = append(once, fmt.Sprintf("%s rolled out %d more times after its recorded apply", d.Role, d.Rollouts))
		}
	}
	wantBase := 0
	if hasBase(tr) {
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
