package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/deploy/render"
)

// Prune removes the services of the stack that st does not declare, and returns their names,
// sorted. Call it after the new render was applied, so that nothing the render still needs
// is ever missing. Only services labelled with the stack's namespace are candidates: a
// service whose name merely looks like the stack's is never touched. Prune is PruneOwned
// with the zero Owner: every such service is a candidate.
//
// When the render could not be produced (renderErr set, or st nil) Prune removes nothing
// and returns an error wrapping ErrNoRender and renderErr. A listing error is an error, never
// an empty list. Networks, secrets, configs and volumes are never pruned.
func (d *Deployer) Prune(ctx context.Context, stack string, st *render.Stack, renderErr error) ([]string, error) {
	return d.PruneOwned(ctx, stack, st, renderErr, Owner{})
}

// PruneOwned is Prune limited to the services that carry owner's labels: the others it would
// have removed are left, and returned as a *NotOwnedError (joined with any removal error)
// along with the names of those it did remove.
func (d *Deployer) PruneOwned(ctx context.Context, stack string, st *render.Stack, renderErr error, owner Owner) ([]string, error) {
	if renderErr != nil {
		return nil, fmt.Errorf("prune stack %s: %w: %w", stack, ErrNoRender, renderErr)
	}
	if st == nil {
		return nil, fmt.Errorf("prune stack %s: %w", stack, ErrNoRender)
	}
	if st.Name != stack {
		return nil, fmt.Errorf("prune stack %s: render is of stack %s", stack, st.Name)
	}
	log := logr.FromContextOrDiscard(ctx).WithValues("stack", stack)
	svcs, err := d.stackServices(ctx, stack)
	if err != nil {
		return nil, fmt.Errorf("prune stack %s: %w", stack, err)
	}
	var (
		removed  []string
		errs     []error
		notOwned = &NotOwnedError{Stack: stack}
	)
	for _, s := range svcs {
		if _, declared := st.Services[s.Spec.Name]; declared {
			continue
		}
		if n := owner.check(KindService, s.Spec.Name, s.Spec.Labels); n != nil {
			log.Info("service not pruned: not the owner's", "service", s.Spec.Name, "label", n.Label)
			notOwned.add(n)
			continue
		}
		if err := d.engine.ServiceRemove(ctx, s.ID); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove service %s: %w", s.Spec.Name, err))
			continue
		}
		log.Info("service pruned", "service", s.Spec.Name)
		removed = append(removed, s.Spec.Name)
	}
	sort.Strings(removed)
	if err := notOwned.orNil(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("prune stack %s: %w", stack, errors.Join(errs...))
	}
	return removed, nil
}

// stackFilter selects the objects labelled as the stack's.
func stackFilter(stack string) filters.Args {
	return filters.NewArgs(filters.Arg("label", LabelNamespace+"="+stack))
}

// stackServices lists the services labelled as the stack's. The label is checked again on
// the result, so that an engine with a looser filter cannot widen what deploy acts on.
func (d *Deployer) stackServices(ctx context.Context, stack string) ([]swarm.Service, error) {
	svcs, err := d.engine.ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter(stack)})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out := svcs[:0]
	for _, s := range svcs {
		if s.Spec.Labels[LabelNamespace] == stack {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Name < out[j].Spec.Name })
	return out, nil
}
