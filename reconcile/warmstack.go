package reconcile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/internal/mask"
	"github.com/swarmrun/swarmrun/warm"
)

// WarmStacks deploys recipes' warm stacks through the TestRun reconciler's own deploy path:
// it is the warm.StackDeployer of the Recipe controller.
type WarmStacks struct {
	s       *stacks
	dataDir string
}

var _ warm.StackDeployer = (*WarmStacks)(nil)

// NewWarmStacks returns WarmStacks over the TestRun reconciler's Options, so that a warm
// stack deploys exactly as a run does: Deployer and DataDir are required; Recipes, Now,
// Stable, Poll, AppService and DomainSuffix are used as the reconciler uses them, the rest is
// not. The warm stacks' deploy directories are <DataDir>/warm/<recipe>/<version>, dropped
// once the deploy is done.
func NewWarmStacks(o Options) (*WarmStacks, error) {
	if o.Deployer == nil || o.DataDir == "" {
		return nil, errors.New("warm stacks: deployer and data dir are required")
	}
	s, err := newStacks(stackOptions{deployer: o.Deployer, recipes: o.Recipes, dataDir: o.DataDir, now: o.Now,
		appService: o.AppService, domainSuffix: o.DomainSuffix, stable: o.Stable, poll: o.Poll})
	if err != nil {
		return nil, fmt.Errorf("warm stacks: %w", err)
	}
	return &WarmStacks{s: s, dataDir: o.DataDir}, nil
}

// DeployVersion converges stack to rc at the release tag version (at commit): the commit is
// materialised into a directory of its own and rendered with the recipe's files and env, the
// Recipe's env and overlays, STACK_NAME and DOMAIN of the stack, and the app labels of a
// version deploy; previous (a base-only repair) and any run's env never apply. Generated
// secrets derive from the stack's name, so every version of one warm stack gets the same
// values and its kept volumes stay readable. Every object carries managed-by, warm=<recipe>
// and role=warm. After the apply converged, the services the version no longer declares are
// pruned; volumes are never removed.
func (w *WarmStacks) DeployVersion(ctx context.Context, rc *v1alpha1.Recipe, version, commit, stack string) error {
	m := mask.New()
	if err := w.deploy(ctx, rc, version, commit, stack, m); err != nil {
		// The message reaches the Recipe's status: no generated secret may be in it.
		if msg := m.String(err.Error()); msg != err.Error() {
			return errors.New(msg)
		}
		return err
	}
	return nil
}

func (w *WarmStacks) deploy(ctx context.Context, rc *v1alpha1.Recipe, version, commit, stack string, m *mask.Masker) error {
	log := logr.FromContextOrDiscard(ctx).WithValues("stack", stack, "version", version)
	src, err := w.s.recipes.Open(ctx, rc.Spec.Source.URL)
	if err != nil {
		return fmt.Errorf("warm deploy: %w", err)
	}
	// The commit was resolved by a run, maybe in another process: the mirror may predate it.
	if err := src.Fetch(ctx); err != nil {
		return fmt.Errorf("warm deploy: %w", err)
	}
	dir := filepath.Join(w.dataDir, "warm", rc.Name, version)
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			log.Error(err, "warm deploy directory not removed")
		}
	}()
	labels := warmOwnership(rc)
	st, _, err := w.s.render(ctx, src, deploySpec{
		what:     v1alpha1.RoleWarm,
		stack:    stack,
		commit:   commit,
		dir:      dir,
		env:      []map[string]string{rc.Spec.Env},
		overlays: raw(rc.Spec.Overlays),
		app:      recipe.AppDeploy{Stack: stack, Recipe: rc.Name, Commit: commit, Version: version},
		seed:     "warm\x00" + stack,
		labels:   labels,
	}, m)
	if err != nil {
		return err
	}
	cs, err := w.s.deployer.Apply(ctx, st, deploy.ApplyOptions{Labels: labels})
	if err != nil {
		return fmt.Errorf("warm deploy: %w", err)
	}
	created, updated, unchanged := cs.Count()
	log.Info("warm stack applied", "created", created, "updated", updated, "unchanged", unchanged)
	if _, err := w.s.deployer.Wait(ctx, cs, w.s.waitOptions(rc)); err != nil {
		return fmt.Errorf("warm deploy: wait: %w", err)
	}
	pruned, err := w.s.deployer.Prune(ctx, stack, st, nil)
	if err != nil {
		return fmt.Errorf("warm deploy: %w", err)
	}
	if len(pruned) > 0 {
		log.Info("warm stack pruned", "services", pruned)
	}
	return nil
}

// warmOwnership labels every object of a recipe's warm stack.
func warmOwnership(rc *v1alpha1.Recipe) map[string]string {
	return map[string]string{
		v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue,
		v1alpha1.LabelWarm:      rc.Name,
		v1alpha1.LabelRole:      v1alpha1.RoleWarm,
		v1alpha1.LabelRecipe:    rc.Name,
	}
}
