package deploy

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/swarmrun/swarmrun/deploy/internal/servicemode"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
)

// StackState is the live state of one stack, as the engine reports it now.
type StackState struct {
	Name     string
	Services []ServiceState
	// Networks, Secrets, Configs and Volumes are the names of the stack's objects, sorted.
	Networks []string
	Secrets  []string
	Configs  []string
	Volumes  []string
}

// Exists reports whether any object of the stack is left.
func (s *StackState) Exists() bool {
	return len(s.Services)+len(s.Networks)+len(s.Secrets)+len(s.Configs)+len(s.Volumes) > 0
}

// Service returns the state of the service with the given full name.
func (s *StackState) Service(name string) (ServiceState, bool) {
	for _, svc := range s.Services {
		if svc.Name == name {
			return svc, true
		}
	}
	return ServiceState{}, false
}

// ServiceState is the live state of one service.
type ServiceState struct {
	Name string
	ID   string
	// Version is the service's Version.Index.
	Version uint64
	// Image is the image the spec runs (possibly pinned to a digest); ComposeImage the image
	// as written in compose (the com.docker.stack.image label), empty if unlabelled.
	Image        string
	ComposeImage string
	// Mode is "replicated", "global", "replicated-job" or "global-job".
	Mode string
	// Desired is the replica count of a replicated service, or the number of tasks the
	// orchestrator wants running for other modes. Running counts tasks that are running and
	// meant to be.
	Desired uint64
	Running uint64
	// UpdateState is the state of the last rollout ("updating", "completed", "paused",
	// "rollback_started", ...), empty when there was none since the last spec change.
	UpdateState   string
	UpdateMessage string
	// SpecDigest is the swarmrun.dev/spec-digest label, empty on services swarmrun did not
	// apply.
	SpecDigest string
	Labels     map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Observe reads the live state of the stack: its services with their images, replicas
// running and desired, rollout state and labels, and the names of its other objects. A stack
// that does not exist is an empty state, not an error.
func (d *Deployer) Observe(ctx context.Context, stack string) (*StackState, error) {
	st := &StackState{Name: stack}
	svcs, err := d.stackServices(ctx, stack)
	if err != nil {
		return nil, fmt.Errorf("observe stack %s: %w", stack, err)
	}
	f := stackFilter(stack)
	tasks, err := d.engine.TaskList(ctx, swarm.TaskListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("observe stack %s: list tasks: %w", stack, err)
	}
	running := map[string]uint64{}
	wanted := map[string]uint64{}
	for _, t := range tasks {
		if t.DesiredState != swarm.TaskStateRunning {
			continue
		}
		wanted[t.ServiceID]++
		if t.Status.State == swarm.TaskStateRunning {
			running[t.ServiceID]++
		}
	}
	for _, s := range svcs {
		ss := ServiceState{
			Name:         s.Spec.Name,
			ID:           s.ID,
			Version:      s.Version.Index,
			Image:        serviceImage(s.Spec),
			ComposeImage: s.Spec.Labels[LabelImage],
			Mode:         servicemode.Name(s.Spec.Mode),
			Desired:      wanted[s.ID],
			Running:      running[s.ID],
			SpecDigest:   s.Spec.Labels[LabelSpecDigest],
			Labels:       s.Spec.Labels,
			CreatedAt:    s.CreatedAt,
			UpdatedAt:    s.UpdatedAt,
		}
		if n, ok := serviceReplicas(s.Spec); ok {
			ss.Desired = n
		}
		if s.UpdateStatus != nil {
			ss.UpdateState = string(s.UpdateStatus.State)
			ss.UpdateMessage = s.UpdateStatus.Message
		}
		st.Services = append(st.Services, ss)
	}

	nets, err := d.engine.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("observe stack %s: list networks: %w", stack, err)
	}
	for _, n := range nets {
		if n.Labels[LabelNamespace] == stack {
			st.Networks = append(st.Networks, n.Name)
		}
	}
	secs, err := d.engine.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("observe stack %s: list secrets: %w", stack, err)
	}
	for _, s := range secs {
		if s.Spec.Labels[LabelNamespace] == stack {
			st.Secrets = append(st.Secrets, s.Spec.Name)
		}
	}
	cfgs, err := d.engine.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("observe stack %s: list configs: %w", stack, err)
	}
	for _, c := range cfgs {
		if c.Spec.Labels[LabelNamespace] == stack {
			st.Configs = append(st.Configs, c.Spec.Name)
		}
	}
	vols, err := d.engine.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("observe stack %s: list volumes: %w", stack, err)
	}
	for _, v := range vols.Volumes {
		if v.Labels[LabelNamespace] == stack {
			st.Volumes = append(st.Volumes, v.Name)
		}
	}
	for _, l := range [][]string{st.Networks, st.Secrets, st.Configs, st.Volumes} {
		sort.Strings(l)
	}
	return st, nil
}
