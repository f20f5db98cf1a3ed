package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/stack"
)

// Plan is what resolving a run fixes for the rest of it: the head and the upgrade base.
type Plan struct {
	Head stack.Commit
	Base v1alpha1.BasePlan
}

// PlanRun resolves a run against its recipe's source, which the caller has fetched: the
// head (spec.head, or the target branch tip, main falling back to master), the recipe's
// published versions, the explicit base when there is one, and then the base plan
// (ResolveBase). A ref that names nothing fails with SourceFailed; other errors may pass
// with a retry. The reconciler stores the plan in the status; `swarmrun render` uses it to
// render what a run would deploy.
func PlanRun(ctx context.Context, src *stack.Source, tr *v1alpha1.TestRun, rc *v1alpha1.Recipe) (Plan, error) {
	branch, tip, err := src.TargetBranch(ctx, rc.Spec.Source.TargetBranch)
	if err != nil && !errors.Is(err, stack.ErrNoTargetBranch) {
		return Plan{}, fmt.Errorf("resolve: %w", err)
	}
	var head stack.Commit
	if tr.Spec.Head == "" {
		if branch == "" {
			return Plan{}, &failure{reason: v1alpha1.ReasonSourceFailed, err: fmt.Errorf("no head given and %w", err)}
		}
		head = stack.Commit{Ref: branch, Hash: tip}
		if head.Version, err = src.VersionOf(ctx, tip); err != nil {
			return Plan{}, fmt.Errorf("resolve: %w", err)
		}
	} else if head, err = src.Resolve(ctx, tr.Spec.Head); err != nil {
		return Plan{}, headFailure("head", err)
	}
	published, err := src.Versions(ctx)
	if err != nil {
		return Plan{}, fmt.Errorf("resolve: %w", err)
	}
	in := BaseInput{
		Run:          tr.Spec,
		Recipe:       rc.Spec,
		Canonical:    rc.Status.Canonical,
		HeadCommit:   head.Hash,
		HeadVersion:  head.Version,
		Published:    published,
		TargetBranch: branch,
		TargetCommit: tip,
	}
	if tr.Spec.UpgradeBase != "" {
		c, err := src.Resolve(ctx, tr.Spec.UpgradeBase)
		if err != nil {
			return Plan{}, headFailure("upgradeBase", err)
		}
		in.UpgradeBaseCommit = c.Hash
	}
	return Plan{Head: head, Base: ResolveBase(in)}, nil
}

// DeployRequest is the deploy of role (base or head) of a resolved run (its status holds
// the stack, the head and the base plan) into dir: the recipe's env, then the base-only
// repair's when it applies to the base, then the run's; the Recipe's overlays (and the
// repair's on the base); the Recipe's image overrides, then the run's; the app labels of a
// version deploy for a published base, of a chaos deploy otherwise. The caller sets Source.
func DeployRequest(tr *v1alpha1.TestRun, rc *v1alpha1.Recipe, role, dir string) stack.Request {
	req := stack.Request{
		Role:       role,
		Stack:      tr.Status.Stack,
		Commit:     tr.Status.Head.Commit,
		Dir:        dir,
		Env:        []map[string]string{rc.Spec.Env},
		Overlays:   raw(rc.Spec.Overlays),
		Images:     [][]v1alpha1.ImageOverride{rc.Spec.Images, tr.Spec.Images},
		SecretSeed: tr.UID,
		Labels:     ownership(tr, rc.Name, role),
		Recipe:     rc.Name,
		SourceURL:  rc.Spec.Source.URL,
	}
	req.App = stack.AppDeploy{Stack: req.Stack, Recipe: rc.Name, Commit: req.Commit, Chaos: true}
	if role == roleBase {
		base := *tr.Status.Base
		req.Commit, req.App.Commit = base.Commit, base.Commit
		if base.Kind == v1alpha1.BaseVersion {
			req.App.Chaos, req.App.Version, req.Published = false, base.Version, true
		}
		if PreviousFor(base, rc.Spec.Previous).Applies {
			req.Env = append(req.Env, rc.Spec.Previous.Env)
			req.Overlays = append(req.Overlays, raw(rc.Spec.Previous.Overlays)...)
		}
	}
	req.Env = append(req.Env, tr.Spec.Env)
	return req
}
