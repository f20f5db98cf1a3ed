package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/go-logr/logr"
)

// DefaultRemoveTimeout bounds one Remove when RemoveOptions.Timeout is zero.
const DefaultRemoveTimeout = 2 * time.Minute

// RemoveOptions tune one Remove.
type RemoveOptions struct {
	// Volumes removes the stack's named volumes too (docker stack rm never does).
	Volumes bool
	// Timeout bounds the whole removal, including the wait for tasks to go (default 2m).
	Timeout time.Duration
}

// Removal lists what Remove removed, by name, each list sorted.
type Removal struct {
	Services []string
	Networks []string
	Secrets  []string
	Configs  []string
	Volumes  []string
}

// Remove tears the stack down: its services, then, once their tasks are gone (networks and
// volumes stay in use until then), its secrets, configs and networks, and its volumes when
// asked. Objects are the stack's by their namespace label only. Removing a stack that is
// already gone, or partly gone, succeeds: an object that disappears meanwhile counts as
// removed. Removals the engine refuses for a while (a network whose last endpoint is going
// away) are retried every PollInterval until the timeout.
func (d *Deployer) Remove(ctx context.Context, stack string, o RemoveOptions) (*Removal, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultRemoveTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	log := logr.FromContextOrDiscard(ctx).WithValues("stack", stack)
	r := &Removal{}

	svcs, err := d.stackServices(ctx, stack)
	if err != nil {
		return r, fmt.Errorf("remove stack %s: %w", stack, err)
	}
	ids := map[string]bool{}
	var errs []error
	for _, s := range svcs {
		if err := d.engine.ServiceRemove(ctx, s.ID); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove service %s: %w", s.Spec.Name, err))
			continue
		}
		ids[s.ID] = true
		r.Services = append(r.Services, s.Spec.Name)
	}
	if len(errs) > 0 {
		return r, fmt.Errorf("remove stack %s: %w", stack, errors.Join(errs...))
	}
	if err := d.waitTasksGone(ctx, stack, ids); err != nil {
		return r, fmt.Errorf("remove stack %s: %w", stack, err)
	}

	f := stackFilter(stack)
	secs, err := d.engine.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	if err != nil {
		return r, fmt.Errorf("remove stack %s: list secrets: %w", stack, err)
	}
	for _, s := range secs {
		if s.Spec.Labels[LabelNamespace] != stack {
			continue
		}
		if err := d.retryRemove(ctx, func() error { return d.engine.SecretRemove(ctx, s.ID) }); err != nil {
			errs = append(errs, fmt.Errorf("remove secret %s: %w", s.Spec.Name, err))
			continue
		}
		r.Secrets = append(r.Secrets, s.Spec.Name)
	}
	cfgs, err := d.engine.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	if err != nil {
		return r, fmt.Errorf("remove stack %s: list configs: %w", stack, err)
	}
	for _, c := range cfgs {
		if c.Spec.Labels[LabelNamespace] != stack {
			continue
		}
		if err := d.retryRemove(ctx, func() error { return d.engine.ConfigRemove(ctx, c.ID) }); err != nil {
			errs = append(errs, fmt.Errorf("remove config %s: %w", c.Spec.Name, err))
			continue
		}
		r.Configs = append(r.Configs, c.Spec.Name)
	}
	nets, err := d.engine.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return r, fmt.Errorf("remove stack %s: list networks: %w", stack, err)
	}
	for _, n := range nets {
		if n.Labels[LabelNamespace] != stack {
			continue
		}
		if err := d.retryRemove(ctx, func() error { return d.engine.NetworkRemove(ctx, n.ID) }); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		r.Networks = append(r.Networks, n.Name)
	}
	if o.Volumes {
		vols, err := d.engine.VolumeList(ctx, volume.ListOptions{Filters: f})
		if err != nil {
			return r, fmt.Errorf("remove stack %s: list volumes: %w", stack, err)
		}
		for _, v := range vols.Volumes {
			if v.Labels[LabelNamespace] != stack {
				continue
			}
			if err := d.retryRemove(ctx, func() error { return d.engine.VolumeRemove(ctx, v.Name, false) }); err != nil {
				errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
				continue
			}
			r.Volumes = append(r.Volumes, v.Name)
		}
	}
	for _, l := range [][]string{r.Services, r.Networks, r.Secrets, r.Configs, r.Volumes} {
		sort.Strings(l)
	}
	if len(errs) > 0 {
		return r, fmt.Errorf("remove stack %s: %w", stack, errors.Join(errs...))
	}
	log.Info("stack removed", "services", len(r.Services), "networks", len(r.Networks),
		"secrets", len(r.Secrets), "configs", len(r.Configs), "volumes", len(r.Volumes))
	return r, nil
}

// waitTasksGone polls until no task of the removed services is still alive. A task of a
// removed service normally disappears once its container is shut down; a job's finished
// tasks stay in the store for good (moby#44312), so a task in a final state counts as gone.
// A container may outlive its task by a moment: the removals that follow retry while the
// engine says the network or volume is in use.
func (d *Deployer) waitTasksGone(ctx context.Context, stack string, removed map[string]bool) error {
	if len(removed) == 0 {
		return nil
	}
	for {
		tasks, err := d.engine.TaskList(ctx, swarm.TaskListOptions{Filters: stackFilter(stack)})
		if err != nil {
			return fmt.Errorf("list tasks: %w", err)
		}
		left := 0
		for _, t := range tasks {
			if removed[t.ServiceID] && !finalState(t.Status.State) {
				left++
			}
		}
		if left == 0 {
			return nil
		}
		if err := d.pause(ctx); err != nil {
			return fmt.Errorf("%d tasks of removed services still alive: %w", left, err)
		}
	}
}

// finalState reports whether a task in state s has no container running any more.
func finalState(s swarm.TaskState) bool {
	switch s {
	case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed,
		swarm.TaskStateRejected, swarm.TaskStateRemove, swarm.TaskStateOrphaned:
		return true
	}
	return false
}

// removeRetryFor bounds the retries of one object's removal: the engine's refusals that pass
// (endpoints being released) pass within seconds; others (an object still used outside the
// stack) do not, and must not eat the whole timeout.
const removeRetryFor = 20 * time.Second

// retryRemove calls remove until it succeeds, the object is gone, removeRetryFor worth of
// poll intervals passed or ctx ends; then the last refusal is returned.
func (d *Deployer) retryRemove(ctx context.Context, remove func() error) error {
	attempts := int(removeRetryFor/d.pollInterval) + 1
	for i := 1; ; i++ {
		err := remove()
		if err == nil || cerrdefs.IsNotFound(err) {
			return nil
		}
		if i >= attempts {
			return err
		}
		if perr := d.pause(ctx); perr != nil {
			return err
		}
	}
}

// pause waits one poll interval, or returns ctx's error when it ends first.
func (d *Deployer) pause(ctx context.Context) error {
	t := time.NewTimer(d.pollInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
