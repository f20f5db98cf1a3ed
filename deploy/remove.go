package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
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
	// Owner, when set, limits the removal to the objects that carry the owner's labels; the
	// others are left and reported (*NotOwnedError). Volumes carry only the namespace label
	// (the engine makes them from the services' mounts), so they are removed only when
	// nothing else of the stack is someone else's. The zero Owner removes every object of
	// the stack: for an operator's own stack, or a caller that checked ownership first.
	Owner Owner
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
// asked. It is RemoveStep repeated every PollInterval until the stack is gone or the timeout
// passes. Removing a stack that is already gone, or partly gone, succeeds. Removals the
// engine refuses for a while (a network whose last endpoint is going away) are retried; the
// last refusal is returned when the timeout passes.
func (d *Deployer) Remove(ctx context.Context, stack string, o RemoveOptions) (*Removal, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultRemoveTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	total := &Removal{}
	for {
		r, done, err := d.RemoveStep(ctx, stack, o)
		total.add(r)
		var refused *RefusedError
		if done || (err != nil && !errors.As(err, &refused)) {
			return total, err
		}
		if perr := d.pause(ctx); perr != nil {
			if err == nil {
				err = fmt.Errorf("remove stack %s: %w", stack, perr)
			}
			return total, err
		}
	}
}

// RefusedError is a removal the engine refused, often for a moment (a network whose last
// endpoint is being released): the next step tries again.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// RemoveStep takes one step of a stack's removal and returns at once: it removes the stack's
// services; while tasks of removed services are alive it stops there (done false); then it
// removes the secrets, configs and networks (and volumes when asked). done is true when
// nothing of the stack is left to remove. A removal the engine refuses (an object still in
// use while endpoints are released) is returned as the error with done false, for the next
// step to try again (a *RefusedError); a listing error is returned as it is. Objects are the
// stack's by their namespace label; with an Owner, only the owner's are removed, and the
// step that finds the rest done returns them as a *NotOwnedError.
func (d *Deployer) RemoveStep(ctx context.Context, stack string, o RemoveOptions) (*Removal, bool, error) {
	log := logr.FromContextOrDiscard(ctx).WithValues("stack", stack)
	r := &Removal{}
	notOwned := &NotOwnedError{Stack: stack}
	svcs, err := d.stackServices(ctx, stack)
	if err != nil {
		return r, false, fmt.Errorf("remove stack %s: %w", stack, err)
	}
	var errs []error
	foreign := map[string]bool{} // services left alone, whose tasks stay
	for _, s := range svcs {
		if n := o.Owner.check(KindService, s.Spec.Name, s.Spec.Labels); n != nil {
			notOwned.add(n)
			foreign[s.ID] = true
			continue
		}
		if err := d.engine.ServiceRemove(ctx, s.ID); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove service %s: %w", s.Spec.Name, err))
			continue
		}
		r.Services = append(r.Services, s.Spec.Name)
	}
	if len(errs) > 0 {
		return r, false, fmt.Errorf("remove stack %s: %w", stack, errors.Join(errs...))
	}
	if left, err := d.tasksAlive(ctx, stack, foreign); err != nil || left > 0 {
		if err != nil {
			return r, false, fmt.Errorf("remove stack %s: %w", stack, err)
		}
		log.V(1).Info("waiting for tasks of removed services", "tasks", left)
		return r, false, nil
	}

	f := stackFilter(stack)
	secs, err := d.engine.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	if err != nil {
		return r, false, fmt.Errorf("remove stack %s: list secrets: %w", stack, err)
	}
	cfgs, err := d.engine.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	if err != nil {
		return r, false, fmt.Errorf("remove stack %s: list configs: %w", stack, err)
	}
	nets, err := d.engine.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return r, false, fmt.Errorf("remove stack %s: list networks: %w", stack, err)
	}
	secs = owned(o.Owner, stack, KindSecret, secs, notOwned, func(s swarm.Secret) (string, map[string]string) { return s.Spec.Name, s.Spec.Labels })
	cfgs = owned(o.Owner, stack, KindConfig, cfgs, notOwned, func(c swarm.Config) (string, map[string]string) { return c.Spec.Name, c.Spec.Labels })
	nets = owned(o.Owner, stack, KindNetwork, nets, notOwned, func(n network.Summary) (string, map[string]string) { return n.Name, n.Labels })
	// Whose a volume is, only the rest of its stack can tell.
	volumes := o.Volumes && len(notOwned.Objects) == 0

	// A task's container outlives it by a moment, and holds the stack's volumes and network
	// endpoints until it is removed.
	if volumes {
		cs, err := d.engine.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
		if err != nil {
			return r, false, fmt.Errorf("remove stack %s: list containers: %w", stack, err)
		}
		if len(cs) > 0 {
			log.V(1).Info("waiting for containers of removed services", "containers", len(cs))
			return r, false, nil
		}
	}
	// Volumes go first: a volume the engine still refuses is tried again at the next step,
	// and the stack's labelled networks, secrets and configs, kept until then, still say
	// whose it is.
	if volumes {
		vols, err := d.engine.VolumeList(ctx, volume.ListOptions{Filters: f})
		if err != nil {
			return r, false, fmt.Errorf("remove stack %s: list volumes: %w", stack, err)
		}
		for _, v := range vols.Volumes {
			if v.Labels[LabelNamespace] != stack {
				continue
			}
			if err := d.engine.VolumeRemove(ctx, v.Name, false); err != nil && !cerrdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
				continue
			}
			r.Volumes = append(r.Volumes, v.Name)
		}
	}
	for _, s := range secs {
		if err := d.engine.SecretRemove(ctx, s.ID); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove secret %s: %w", s.Spec.Name, err))
			continue
		}
		r.Secrets = append(r.Secrets, s.Spec.Name)
	}
	for _, c := range cfgs {
		if err := d.engine.ConfigRemove(ctx, c.ID); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove config %s: %w", c.Spec.Name, err))
			continue
		}
		r.Configs = append(r.Configs, c.Spec.Name)
	}
	for _, n := range nets {
		if err := d.engine.NetworkRemove(ctx, n.ID); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		r.Networks = append(r.Networks, n.Name)
	}
	for _, l := range [][]string{r.Services, r.Networks, r.Secrets, r.Configs, r.Volumes} {
		sort.Strings(l)
	}
	if len(errs) > 0 {
		return r, false, &RefusedError{Err: fmt.Errorf("remove stack %s: %w", stack, errors.Join(errs...))}
	}
	if err := notOwned.orNil(); err != nil {
		log.Info("stack objects not removed: not the owner's", "objects", len(notOwned.Objects))
		return r, true, fmt.Errorf("remove stack %s: %w", stack, err)
	}
	log.Info("stack removed", "networks", len(r.Networks), "secrets", len(r.Secrets), "configs", len(r.Configs), "volumes", len(r.Volumes))
	return r, true, nil
}

// add appends what another step removed.
func (r *Removal) add(o *Removal) {
	if o == nil {
		return
	}
	r.Services = append(r.Services, o.Services...)
	r.Networks = append(r.Networks, o.Networks...)
	r.Secrets = append(r.Secrets, o.Secrets...)
	r.Configs = append(r.Configs, o.Configs...)
	r.Volumes = append(r.Volumes, o.Volumes...)
	for _, l := range [][]string{r.Services, r.Networks, r.Secrets, r.Configs, r.Volumes} {
		sort.Strings(l)
	}
}

// tasksAlive counts the stack's tasks that still have a container running, but for those of
// the services in skip (left alone, so never going). A task of a removed service normally
// disappears once its container is shut down; a job's finished tasks stay in the store for
// good (moby#44312), so a task in a final state counts as gone. A container may outlive its
// task by a moment: the removals that follow are tried again while the engine says the
// network or volume is in use.
func (d *Deployer) tasksAlive(ctx context.Context, stack string, skip map[string]bool) (int, error) {
	tasks, err := d.engine.TaskList(ctx, swarm.TaskListOptions{Filters: stackFilter(stack)})
	if err != nil {
		return 0, fmt.Errorf("list tasks: %w", err)
	}
	left := 0
	for _, t := range tasks {
		if !finalState(t.Status.State) && !skip[t.ServiceID] {
			left++
		}
	}
	return left, nil
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
