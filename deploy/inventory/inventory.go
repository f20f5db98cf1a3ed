package inventory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"

	"github.com/swarmrun/swarmrun/deploy"
)

// Kinds of objects.
const (
	KindService = "service"
	KindNetwork = "network"
	KindSecret  = "secret"
	KindConfig  = "config"
	KindVolume  = "volume"
)

// Object is one swarm object as policy sees it.
type Object struct {
	Kind string
	// ID is the engine's ID; volumes have none and use their name.
	ID   string
	Name string
	// Stack is the com.docker.stack.namespace label, empty outside stacks.
	Stack  string
	Labels map[string]string
	// UsedBy names the services whose spec refers to this network, secret, config or
	// volume, sorted. Always empty for services.
	UsedBy []string
	// CreatedAt and UpdatedAt are the engine's times, zero where it gives none.
	CreatedAt time.Time
	UpdatedAt time.Time
	// Predefined marks networks the engine made itself (bridge, host, none, ingress): they
	// can never be removed.
	Predefined bool
}

// Stack is every object carrying one namespace label.
type Stack struct {
	Name     string
	Services []Object
	Networks []Object
	Secrets  []Object
	Configs  []Object
	Volumes  []Object
}

// Objects returns the stack's objects, services first, then networks, secrets, configs and
// volumes.
func (s *Stack) Objects() []Object {
	out := make([]Object, 0, len(s.Services)+len(s.Networks)+len(s.Secrets)+len(s.Configs)+len(s.Volumes))
	for _, l := range [][]Object{s.Services, s.Networks, s.Secrets, s.Configs, s.Volumes} {
		out = append(out, l...)
	}
	return out
}

// LastChange is the newest creation or update time of any of the stack's objects: how long
// the stack has been left alone.
func (s *Stack) LastChange() time.Time {
	var t time.Time
	for _, l := range [][]Object{s.Services, s.Networks, s.Secrets, s.Configs, s.Volumes} {
		for _, o := range l {
			if o.CreatedAt.After(t) {
				t = o.CreatedAt
			}
			if o.UpdatedAt.After(t) {
				t = o.UpdatedAt
			}
		}
	}
	return t
}

// Inventory is what the swarm holds, grouped by stack.
type Inventory struct {
	// Stacks by namespace.
	Stacks map[string]*Stack
	// Loose are the objects outside any stack, sorted by kind and name.
	Loose []Object
}

// StackNames returns the names of the stacks, sorted.
func (inv *Inventory) StackNames() []string {
	names := make([]string, 0, len(inv.Stacks))
	for n := range inv.Stacks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// List reads the whole swarm with one listing per object type, unfiltered: ownership is a
// question of labels that the caller answers, and a network, secret or config is only known
// to be unused once every service, in a stack or not, has been looked at.
func List(ctx context.Context, e deploy.Engine) (*Inventory, error) {
	svcs, err := e.ServiceList(ctx, swarm.ServiceListOptions{})
	if err != nil {
		return nil, fmt.Errorf("inventory: list services: %w", err)
	}
	nets, err := e.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("inventory: list networks: %w", err)
	}
	secs, err := e.SecretList(ctx, swarm.SecretListOptions{})
	if err != nil {
		return nil, fmt.Errorf("inventory: list secrets: %w", err)
	}
	cfgs, err := e.ConfigList(ctx, swarm.ConfigListOptions{})
	if err != nil {
		return nil, fmt.Errorf("inventory: list configs: %w", err)
	}
	vols, err := e.VolumeList(ctx, volume.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("inventory: list volumes: %w", err)
	}
	return build(svcs, nets, secs, cfgs, vols.Volumes), nil
}

// ListStack reads one stack, with one label-filtered listing per object type. UsedBy counts
// only the stack's own services. A stack that does not exist is an empty Stack.
func ListStack(ctx context.Context, e deploy.Engine, stack string) (*Stack, error) {
	f := filters.NewArgs(filters.Arg("label", deploy.LabelNamespace+"="+stack))
	svcs, err := e.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("inventory of %s: list services: %w", stack, err)
	}
	nets, err := e.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("inventory of %s: list networks: %w", stack, err)
	}
	secs, err := e.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("inventory of %s: list secrets: %w", stack, err)
	}
	cfgs, err := e.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("inventory of %s: list configs: %w", stack, err)
	}
	vols, err := e.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("inventory of %s: list volumes: %w", stack, err)
	}
	// The engine's label filter is exact for key=value; build re-checks the label anyway.
	if st := build(svcs, nets, secs, cfgs, vols.Volumes).Stacks[stack]; st != nil {
		return st, nil
	}
	return &Stack{Name: stack}, nil
}

// users records, for each referenced object, the services that refer to it. Networks are
// referred to by ID in stored specs and by name in some older ones, so both are recorded.
type users struct {
	networks, secrets, configs, volumes map[string][]string
}

func (u *users) add(m map[string][]string, key, svc string) {
	if key != "" && !slices.Contains(m[key], svc) {
		m[key] = append(m[key], svc)
	}
}

func collectUsers(svcs []swarm.Service) *users {
	u := &users{networks: map[string][]string{}, secrets: map[string][]string{}, configs: map[string][]string{}, volumes: map[string][]string{}}
	for _, s := range svcs {
		name := s.Spec.Name
		for _, n := range s.Spec.TaskTemplate.Networks {
			u.add(u.networks, n.Target, name)
		}
		//lint:ignore SA1019 Spec.Networks is deprecated but still filled by old clients.
		for _, n := range s.Spec.Networks {
			u.add(u.networks, n.Target, name)
		}
		for _, vip := range s.Endpoint.VirtualIPs {
			u.add(u.networks, vip.NetworkID, name)
		}
		cs := s.Spec.TaskTemplate.ContainerSpec
		if cs == nil {
			continue
		}
		for _, r := range cs.Secrets {
			u.add(u.secrets, r.SecretID, name)
			u.add(u.secrets, r.SecretName, name)
		}
		for _, r := range cs.Configs {
			u.add(u.configs, r.ConfigID, name)
			u.add(u.configs, r.ConfigName, name)
		}
		for _, m := range cs.Mounts {
			if m.Type == mount.TypeVolume {
				u.add(u.volumes, m.Source, name)
			}
		}
	}
	return u
}

// usedBy merges the users recorded under an object's ID and under its name.
func usedBy(m map[string][]string, id, name string) []string {
	var out []string
	for _, k := range []string{id, name} {
		for _, s := range m[k] {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

func build(svcs []swarm.Service, nets []network.Summary, secs []swarm.Secret, cfgs []swarm.Config, vols []*volume.Volume) *Inventory {
	u := collectUsers(svcs)
	objs := make([]Object, 0, len(svcs)+len(nets)+len(secs)+len(cfgs)+len(vols))
	for _, s := range svcs {
		objs = append(objs, Object{Kind: KindService, ID: s.ID, Name: s.Spec.Name, Labels: s.Spec.Labels,
			CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt})
	}
	for _, n := range nets {
		objs = append(objs, Object{Kind: KindNetwork, ID: n.ID, Name: n.Name, Labels: n.Labels,
			UsedBy: usedBy(u.networks, n.ID, n.Name), CreatedAt: n.Created, Predefined: predefined(n)})
	}
	for _, s := range secs {
		objs = append(objs, Object{Kind: KindSecret, ID: s.ID, Name: s.Spec.Name, Labels: s.Spec.Labels,
			UsedBy: usedBy(u.secrets, s.ID, s.Spec.Name), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt})
	}
	for _, c := range cfgs {
		objs = append(objs, Object{Kind: KindConfig, ID: c.ID, Name: c.Spec.Name, Labels: c.Spec.Labels,
			UsedBy: usedBy(u.configs, c.ID, c.Spec.Name), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	for _, v := range vols {
		if v == nil {
			continue
		}
		created, _ := time.Parse(time.RFC3339, v.CreatedAt)
		objs = append(objs, Object{Kind: KindVolume, ID: v.Name, Name: v.Name, Labels: v.Labels,
			UsedBy: usedBy(u.volumes, "", v.Name), CreatedAt: created})
	}
	inv := &Inventory{Stacks: map[string]*Stack{}}
	for _, o := range objs {
		o.Stack = o.Labels[deploy.LabelNamespace]
		if o.Stack == "" {
			inv.Loose = append(inv.Loose, o)
			continue
		}
		st := inv.Stacks[o.Stack]
		if st == nil {
			st = &Stack{Name: o.Stack}
			inv.Stacks[o.Stack] = st
		}
		switch o.Kind {
		case KindService:
			st.Services = append(st.Services, o)
		case KindNetwork:
			st.Networks = append(st.Networks, o)
		case KindSecret:
			st.Secrets = append(st.Secrets, o)
		case KindConfig:
			st.Configs = append(st.Configs, o)
		case KindVolume:
			st.Volumes = append(st.Volumes, o)
		}
	}
	byName := func(a, b Object) int {
		if a.Kind != b.Kind {
			return kindOrder(a.Kind) - kindOrder(b.Kind)
		}
		if a.Name != b.Name {
			return cmp.Compare(a.Name, b.Name)
		}
		return cmp.Compare(a.ID, b.ID)
	}
	slices.SortFunc(inv.Loose, byName)
	for _, st := range inv.Stacks {
		for _, l := range [][]Object{st.Services, st.Networks, st.Secrets, st.Configs, st.Volumes} {
			slices.SortFunc(l, byName)
		}
	}
	return inv
}

// predefined reports the networks every node has: they carry no labels and cannot be removed.
func predefined(n network.Summary) bool {
	if n.Ingress {
		return true
	}
	switch n.Name {
	case "bridge", "host", "none", "docker_gwbridge":
		return n.Scope == "local"
	}
	return false
}

func kindOrder(kind string) int {
	switch kind {
	case KindService:
		return 0
	case KindNetwork:
		return 1
	case KindSecret:
		return 2
	case KindConfig:
		return 3
	}
	return 4
}
