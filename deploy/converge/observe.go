package converge

import (
	"context"
	"fmt"
	"reflect"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"golang.org/x/sync/errgroup"
)

// maxObserveAttempts bounds how often observe re-lists when services change under it.
const maxObserveAttempts = 3

// observe takes one consistent look at the services ids: the services, all their tasks, the
// tasks the engine reports as up to date, and the nodes. The engine answers the up-to-date
// filter against the service's spec at the time of the call, so observe lists the services
// before and after the tasks and re-lists when a version moved in between (a rollback swaps
// the spec: judging old tasks against the new spec would call them up to date). Services
// missing from the result are gone.
func observe(ctx context.Context, e Engine, ids []string) (map[string]Observation, error) {
	var (
		obs map[string]Observation
		err error
	)
	for range maxObserveAttempts {
		var settled bool
		obs, settled, err = observeOnce(ctx, e, ids)
		if err != nil || settled {
			return obs, err
		}
	}
	// Judging a look in which a version moved could call old tasks up to date (a rollback
	// swaps the spec); skip it and look again at the next wake-up.
	return nil, errUnsettled
}

// errUnsettled means the services kept changing while observe listed them: no consistent
// look could be taken this time.
var errUnsettled = fmt.Errorf("services kept changing while listing them (%d attempts)", maxObserveAttempts)

func observeOnce(ctx context.Context, e Engine, ids []string) (map[string]Observation, bool, error) {
	before, err := listServices(ctx, e, ids)
	if err != nil {
		return nil, false, err
	}
	obs := make(map[string]Observation, len(before))
	if len(before) == 0 {
		return obs, true, nil
	}
	present := make([]string, 0, len(before))
	for id := range before {
		present = append(present, id)
	}
	var (
		all, fresh []swarm.Task
		nodes      []swarm.Node
		local      bool
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		all, err = e.TaskList(gctx, swarm.TaskListOptions{Filters: serviceFilter(present)})
		if err != nil {
			return fmt.Errorf("list tasks: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		f := serviceFilter(present)
		f.Add("_up-to-date", "true")
		var err error
		fresh, err = e.TaskList(gctx, swarm.TaskListOptions{Filters: f})
		if cerrdefs.IsInvalidArgument(err) {
			// An engine without the filter (or a fake of one): compare specs here.
			local = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("list up-to-date tasks: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		var err error
		nodes, err = e.NodeList(gctx, swarm.NodeListOptions{})
		if err != nil {
			return fmt.Errorf("list nodes: %w", err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		if cerrdefs.IsNotFound(err) {
			// A service went away between the listings: look again.
			return nil, false, nil
		}
		return nil, false, err
	}
	after, err := listServices(ctx, e, present)
	if err != nil {
		return nil, false, err
	}
	settled := true
	upToDate := make(map[string]bool, len(fresh))
	for _, tk := range fresh {
		upToDate[tk.ID] = true
	}
	byService := map[string][]swarm.Task{}
	for _, tk := range all {
		byService[tk.ServiceID] = append(byService[tk.ServiceID], tk)
		if svc, ok := after[tk.ServiceID]; local && ok && sameTaskSpec(svc, tk) {
			upToDate[tk.ID] = true
		}
	}
	for id, svc := range after {
		if before[id].Version.Index != svc.Version.Index {
			settled = false
		}
		obs[id] = Observation{Service: svc, Tasks: byService[id], UpToDate: upToDate, Nodes: nodes}
	}
	return obs, settled, nil
}

// listServices lists the services ids by ID. The engine's id filter matches prefixes, so the
// result is keyed and filtered by the exact ID.
func listServices(ctx context.Context, e Engine, ids []string) (map[string]swarm.Service, error) {
	f := filters.NewArgs()
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		f.Add("id", id)
		want[id] = true
	}
	svcs, err := e.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out := make(map[string]swarm.Service, len(svcs))
	for _, s := range svcs {
		if want[s.ID] {
			out[s.ID] = s
		}
	}
	return out, nil
}

// sameTaskSpec is the engine's up-to-date test as far as the API shows it: the task's spec
// equals the service's task template. The engine also keeps a task whose only difference is a
// placement constraint its node still meets, and replaces tasks whose published ports changed;
// the task API shows neither, so observe prefers the engine's own filter.
func sameTaskSpec(svc swarm.Service, tk swarm.Task) bool {
	want, got := svc.Spec.TaskTemplate, tk.Spec
	// The engine fills in the runtime on the service's template only.
	want.Runtime, got.Runtime = "", ""
	return reflect.DeepEqual(want, got)
}

func serviceFilter(ids []string) filters.Args {
	f := filters.NewArgs()
	for _, id := range ids {
		f.Add("service", id)
	}
	return f
}
