package invtest

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"golang.org/x/sync/errgroup"

	"github.com/swarmrun/swarmrun/deploy"
)

// Stack describes a stack to create.
type Stack struct {
	Name string
	// Labels go on every object, beside the namespace label.
	Labels map[string]string
	// Services is how many services to create (named <stack>_s<i>), each attached to the
	// stack's network and using its secret and config when those are asked for.
	Services int
	Network  bool
	Secret   bool
	Config   bool
	// Image of the services; it must be present locally.
	Image string
}

// Create makes the stack's objects: network, secret, config, then services.
func Create(ctx context.Context, e deploy.Engine, s Stack) error {
	labels := maps.Clone(s.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[deploy.LabelNamespace] = s.Name
	tmpl := swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: s.Image, Args: []string{"-sleep", "0"}}}
	if s.Network {
		r, err := e.NetworkCreate(ctx, s.Name+"_default", network.CreateOptions{Driver: "overlay", Attachable: true, Labels: labels})
		if err != nil {
			return fmt.Errorf("create network of %s: %w", s.Name, err)
		}
		tmpl.Networks = []swarm.NetworkAttachmentConfig{{Target: r.ID, Aliases: []string{"s"}}}
	}
	if s.Secret {
		name := s.Name + "_pw_v1"
		r, err := e.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: name, Labels: labels}, Data: []byte("x")})
		if err != nil {
			return fmt.Errorf("create secret of %s: %w", s.Name, err)
		}
		tmpl.ContainerSpec.Secrets = []*swarm.SecretReference{{SecretID: r.ID, SecretName: name,
			File: &swarm.SecretReferenceFileTarget{Name: "pw", UID: "0", GID: "0", Mode: 0o444}}}
	}
	if s.Config {
		name := s.Name + "_conf_v1"
		r, err := e.ConfigCreate(ctx, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: name, Labels: labels}, Data: []byte("x")})
		if err != nil {
			return fmt.Errorf("create config of %s: %w", s.Name, err)
		}
		tmpl.ContainerSpec.Configs = []*swarm.ConfigReference{{ConfigID: r.ID, ConfigName: name,
			File: &swarm.ConfigReferenceFileTarget{Name: "/conf", UID: "0", GID: "0", Mode: 0o444}}}
	}
	zero := uint64(0)
	for i := range s.Services {
		spec := swarm.ServiceSpec{
			Annotations:  swarm.Annotations{Name: fmt.Sprintf("%s_s%d", s.Name, i), Labels: labels},
			TaskTemplate: tmpl,
			Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &zero}},
		}
		if _, err := e.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{}); err != nil {
			return fmt.Errorf("create service of %s: %w", s.Name, err)
		}
	}
	return nil
}

// Secret creates a secret outside any stack and returns its ID.
func Secret(ctx context.Context, e deploy.Engine, name string, labels map[string]string) (string, error) {
	r, err := e.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: name, Labels: labels}, Data: []byte("x")})
	if err != nil {
		return "", fmt.Errorf("create secret %s: %w", name, err)
	}
	return r.ID, nil
}

// Config creates a config outside any stack and returns its ID.
func Config(ctx context.Context, e deploy.Engine, name string, labels map[string]string) (string, error) {
	r, err := e.ConfigCreate(ctx, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: name, Labels: labels}, Data: []byte("x")})
	if err != nil {
		return "", fmt.Errorf("create config %s: %w", name, err)
	}
	return r.ID, nil
}

// Network creates an overlay network outside any stack and returns its ID.
func Network(ctx context.Context, e deploy.Engine, name string, labels map[string]string) (string, error) {
	r, err := e.NetworkCreate(ctx, name, network.CreateOptions{Driver: "overlay", Attachable: true, Labels: labels})
	if err != nil {
		return "", fmt.Errorf("create network %s: %w", name, err)
	}
	return r.ID, nil
}

// CreateMany creates the stacks, at most parallel at a time, and returns the names of those
// it created (for cleanup) with the first error.
func CreateMany(ctx context.Context, e deploy.Engine, stacks []Stack, parallel int) ([]string, error) {
	var (
		mu      sync.Mutex
		created []string
	)
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(max(parallel, 1))
	for _, s := range stacks {
		eg.Go(func() error {
			err := Create(ctx, e, s)
			mu.Lock()
			created = append(created, s.Name) // partly created stacks need cleaning up too
			mu.Unlock()
			return err
		})
	}
	err := eg.Wait()
	return created, err
}
