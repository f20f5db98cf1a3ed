package reconcile

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/reconcile/results"
	"github.com/swarmrun/swarmrun/spec"
)

// sourced is a check and where it came from (v1alpha1.CheckSource...), which its result says.
type sourced struct {
	check  v1alpha1.Check
	source string
}

// from tags checks with their source.
func from(source string, checks []v1alpha1.Check) []sourced {
	out := make([]sourced, 0, len(checks))
	for _, c := range checks {
		out = append(out, sourced{check: c, source: source})
	}
	return out
}

// fromRecipe tags the Recipe object's checks.
func fromRecipe(checks []v1alpha1.Check) []sourced { return from(v1alpha1.CheckSourceRecipe, checks) }

// shippedSource is the source of the checks role's commit ships.
func shippedSource(role string) string {
	if role == roleBase {
		return v1alpha1.CheckSourceBase
	}
	return v1alpha1.CheckSourceHead
}

// readShipped reads and decodes the checks the commit materialised in dir ships
// (v1alpha1.RecipeTestsFile): none when it ships no such file. The file is read inside the
// checkout (stack.RecipeTests) and strictly (spec.ReadRecipeTests); a file that breaks either
// is the recipe's fault at that commit, and fails the deploy with RenderFailed, as a compose
// file would.
func readShipped(dir, role string) (v1alpha1.Checks, error) {
	data, found, err := stack.RecipeTests(dir)
	if err != nil {
		err = fmt.Errorf("%s: %w", role, err)
		if reason, final := stack.Reason(err); final {
			return v1alpha1.Checks{}, &failure{reason: reason, err: err}
		}
		return v1alpha1.Checks{}, err
	}
	if !found {
		return v1alpha1.Checks{}, nil
	}
	checks, err := spec.ReadRecipeTests(v1alpha1.RecipeTestsFile, data)
	if err != nil {
		return v1alpha1.Checks{}, &failure{reason: v1alpha1.ReasonRenderFailed, err: fmt.Errorf("%s: %w", role, err)}
	}
	return checks, nil
}

// shipped returns the checks role's commit ships, read when role's deploy is prepared.
func (r *TestRunReconciler) shipped(ctx context.Context, rn *run, role string) (v1alpha1.Checks, error) {
	if _, err := r.prepare(ctx, rn, role); err != nil {
		return v1alpha1.Checks{}, err
	}
	return rn.mem.shipped[role], nil
}

// beforeChecks are the upgrade.before checks, which run on the converged base: the Recipe's,
// then the head's own. The head's file gives them, not the base's, because a before check
// and the after check that reads what it wrote are one test, written together at the head:
// a head that adds such a pair gets both halves run. They run before the head is prepared,
// so the head's file is read from a checkout of its own (earlyHeadChecks).
func (r *TestRunReconciler) beforeChecks(ctx context.Context, rn *run) ([]sourced, error) {
	head, err := r.earlyHeadChecks(ctx, rn)
	if err != nil {
		return nil, err
	}
	return prefixed("before", append(fromRecipe(rn.rc.Spec.Checks.Upgrade.Before), from(v1alpha1.CheckSourceHead, head.Upgrade.Before)...)), nil
}

// earlyHeadChecks reads the head's shipped checks before the head is prepared: its commit is
// materialised into a directory of its own, read, and dropped. A head whose tree or file is
// refused gives none here: its own deploy fails on the same refusal, at the upgrade tier,
// which is where a broken head belongs. Other errors (the engine, a cancelled call) are
// returned, to be retried.
func (r *TestRunReconciler) earlyHeadChecks(ctx context.Context, rn *run) (v1alpha1.Checks, error) {
	if c, ok := rn.mem.shipped[roleHead]; ok {
		return c, nil
	}
	if rn.mem.headEarly != nil {
		return *rn.mem.headEarly, nil
	}
	tr := rn.tr
	src, err := r.source(ctx, rn)
	if err != nil {
		return v1alpha1.Checks{}, err
	}
	dir := filepath.Join(results.Dir(r.o.DataDir, tr.Name), "head-tests")
	checks := v1alpha1.Checks{}
	data, found, err := r.stacks.RecipeTestsAt(ctx, src, tr.Status.Head.Commit, dir)
	if err == nil && found {
		checks, err = spec.ReadRecipeTests(v1alpha1.RecipeTestsFile, data)
		if err != nil {
			err = &failure{reason: v1alpha1.ReasonRenderFailed, err: err}
		}
	}
	if err != nil {
		if _, final := reasonFor(err); !final {
			return v1alpha1.Checks{}, err
		}
		logr.FromContextOrDiscard(ctx).V(1).Info("head checks unreadable before its deploy", "error", rn.masker().String(err.Error()))
		checks = v1alpha1.Checks{}
	}
	rn.mem.headEarly = &checks
	return checks, nil
}
