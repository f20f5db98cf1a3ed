package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"

	"github.com/swarmrun/swarmrun/deploy/render"
)

// Action says what Apply did to one object.
type Action string

// Values of Action.
const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
)

// Kinds of objects in a Change.
const (
	KindNetwork = "network"
	KindSecret  = "secret"
	KindConfig  = "config"
	KindService = "service"
)

// Change is what Apply did to one object.
type Change struct {
	Kind   string
	Name   string
	ID     string
	Action Action
	// PrevVersion is, for services, the Version.Index observed before Apply: the version an
	// update was made against, the current one for an unchanged service, 0 when created.
	// Update states recorded at or before it belong to an earlier rollout.
	PrevVersion uint64
	// Note explains an Unchanged that could not be verified (a secret without a content
	// digest), empty otherwise.
	Note string
}

// ChangeSet is the outcome of one Apply, object by object, each list sorted by name.
type ChangeSet struct {
	Stack    string
	Images   []ImageInfo
	Networks []Change
	Secrets  []Change
	Configs  []Change
	Services []Change
	// StartedAt and FinishedAt bound the Apply call.
	StartedAt  time.Time
	FinishedAt time.Time
}

// Count returns how many services Apply created, updated and left unchanged.
func (cs *ChangeSet) Count() (created, updated, unchanged int) {
	for _, c := range cs.Services {
		switch c.Action {
		case Created:
			created++
		case Updated:
			updated++
		case Unchanged:
			unchanged++
		}
	}
	return created, updated, unchanged
}

// ApplyOptions tune one Apply.
type ApplyOptions struct {
	// Labels are added to every object Apply creates and every service it updates (ownership
	// labels such as swarmrun.dev/managed-by). They take part in the service digest: changing
	// them updates the services' labels, which restarts no task. Existing networks, secrets
	// and configs keep their labels: Apply never updates them.
	Labels map[string]string
	// ForceUpdate bumps TaskTemplate.ForceUpdate on every existing service, so that tasks are
	// replaced even when the spec is the same (an image rebuilt under the same tag).
	ForceUpdate bool
	// Owner, when set, makes Apply refuse (*NotOwnedError, before anything is changed) a
	// stack whose live services, or whose own secrets, configs and networks that the render
	// would reuse, do not carry the owner's labels. The zero Owner checks nothing.
	Owner Owner
}

// Apply converges the swarm to the render, in the order docker stack deploy uses, after
// checks that fail before anything is touched:
//
//  1. the engine is a swarm manager (ErrNotManager);
//  2. every image is present locally or pullable (*ImageError);
//  3. every external network, secret and config exists (*MissingExternalError);
//  4. no secret or config exists under a rendered name with different content
//     (*ImmutableError, one per object, joined);
//  5. with an Owner, every live object Apply would update or reuse is the owner's
//     (*NotOwnedError naming each other one and the label it lacks).
//
// Then it creates missing networks (existing ones are never updated), secrets and configs,
// and creates or updates services, Parallelism at a time.
//
// A service is Unchanged, and no update call is made, when its live spec-digest label
// equals the digest of the spec Apply would send, ForceUpdate is not requested, and its
// image and replica count were not changed behind swarmrun's back (docker service update
// --image, docker service scale). The engine fills defaults into live specs, so the specs
// themselves are never compared. A rollback restores the previous spec with its labels, so a
// rolled-back service is updated again. A paused rollout of the same spec stays Unchanged:
// ForceUpdate retries it.
//
// An update passes the observed Version and keeps the live ForceUpdate counter. An image
// that is present locally is never resolved in a registry (QueryRegistry stays false); an
// image that is only pullable is pinned to its registry digest by the engine.
//
// Apply is not transactional: on an error after the checks, the objects created or updated
// so far stay, and the returned ChangeSet lists them along with the error.
func (d *Deployer) Apply(ctx context.Context, st *render.Stack, o ApplyOptions) (*ChangeSet, error) {
	log := logr.FromContextOrDiscard(ctx).WithValues("stack", st.Name)
	ctx = logr.NewContext(ctx, log)
	cs := &ChangeSet{Stack: st.Name, StartedAt: d.now()}
	live, plan, err := d.check(ctx, st, o.Owner, cs)
	if err != nil {
		return nil, fmt.Errorf("apply stack %s: %w", st.Name, err)
	}
	if err := d.apply(ctx, st, o, live, plan, cs); err != nil {
		return cs, fmt.Errorf("apply stack %s: %w", st.Name, err)
	}
	created, updated, unchanged := cs.Count()
	log.Info("stack applied", "created", created, "updated", updated, "unchanged", unchanged)
	return cs, nil
}

// check runs the checks that must pass before Apply touches anything, and returns what it
// learnt of the swarm on the way.
func (d *Deployer) check(ctx context.Context, st *render.Stack, owner Owner, cs *ChangeSet) (*liveObjects, *objectPlan, error) {
	if err := d.checkManager(ctx); err != nil {
		return nil, nil, err
	}
	images, err := d.CheckImages(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	cs.Images = images
	live, err := d.listLive(ctx, st.Name)
	if err != nil {
		return nil, nil, err
	}
	if err := owner.checkOwned(st, live); err != nil {
		return nil, nil, err
	}
	if err := checkExternal(st, live); err != nil {
		return nil, nil, err
	}
	plan, err := planObjects(st, live)
	if err != nil {
		return nil, nil, err
	}
	return live, plan, nil
}

// apply makes the changes, in docker stack deploy's order, recording each in cs.
func (d *Deployer) apply(ctx context.Context, st *render.Stack, o ApplyOptions, live *liveObjects, plan *objectPlan, cs *ChangeSet) error {
	defer func() { cs.FinishedAt = d.now() }()
	base := mergeLabels(o.Labels, map[string]string{LabelNamespace: st.Name})
	if err := d.applyNetworks(ctx, st, live, base, cs); err != nil {
		return err
	}
	if err := d.applySecrets(ctx, st, live, plan, base, cs); err != nil {
		return err
	}
	if err := d.applyConfigs(ctx, st, live, base, cs); err != nil {
		return err
	}
	local := map[string]bool{}
	for _, img := range cs.Images {
		local[img.Image] = img.Local
	}
	return d.applyServices(ctx, st, o, live, base, local, cs)
}

func (d *Deployer) checkManager(ctx context.Context) error {
	info, err := d.engine.Info(ctx)
	if err != nil {
		return fmt.Errorf("engine info: %w", err)
	}
	if !info.Swarm.ControlAvailable {
		return ErrNotManager
	}
	return nil
}

// liveObjects is the part of the swarm Apply looks at.
type liveObjects struct {
	networks []network.Summary
	secrets  map[string]swarm.Secret // by exact name
	configs  map[string]swarm.Config // by exact name
	services map[string]swarm.Service
}

// listLive lists all networks, secrets and configs (external ones carry no stack label) and
// the stack's services. Names are matched exactly here: the engine's name filters match
// prefixes or substrings.
func (d *Deployer) listLive(ctx context.Context, stack string) (*liveObjects, error) {
	nets, err := d.engine.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	secs, err := d.engine.SecretList(ctx, swarm.SecretListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	cfgs, err := d.engine.ConfigList(ctx, swarm.ConfigListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list configs: %w", err)
	}
	svcs, err := d.stackServices(ctx, stack)
	if err != nil {
		return nil, err
	}
	live := &liveObjects{
		networks: nets,
		secrets:  make(map[string]swarm.Secret, len(secs)),
		configs:  make(map[string]swarm.Config, len(cfgs)),
		services: make(map[string]swarm.Service, len(svcs)),
	}
	for _, s := range secs {
		live.secrets[s.Spec.Name] = s
	}
	for _, c := range cfgs {
		live.configs[c.Spec.Name] = c
	}
	for _, s := range svcs {
		live.services[s.Spec.Name] = s
	}
	return live, nil
}

func (d *Deployer) applyNetworks(ctx context.Context, st *render.Stack, live *liveObjects, base map[string]string, cs *ChangeSet) error {
	log := logr.FromContextOrDiscard(ctx)
	for _, name := range sortedKeys(st.Networks) {
		if n, found, _ := live.swarmNetwork(name); found {
			cs.Networks = append(cs.Networks, Change{Kind: KindNetwork, Name: name, ID: n.ID, Action: Unchanged})
			continue
		}
		opts := st.Networks[name]
		opts.Labels = mergeLabels(opts.Labels, base)
		if opts.Driver == "" {
			opts.Driver = "overlay"
		}
		resp, err := d.engine.NetworkCreate(ctx, name, opts)
		if err != nil {
			return fmt.Errorf("create network %s: %w", name, err)
		}
		log.Info("network created", "network", name)
		cs.Networks = append(cs.Networks, Change{Kind: KindNetwork, Name: name, ID: resp.ID, Action: Created})
	}
	return nil
}

func (d *Deployer) applySecrets(ctx context.Context, st *render.Stack, live *liveObjects, plan *objectPlan, base map[string]string, cs *ChangeSet) error {
	log := logr.FromContextOrDiscard(ctx)
	for _, name := range sortedKeys(st.Secrets) {
		if cur, ok := live.secrets[name]; ok {
			if note := plan.secretNotes[name]; note != "" {
				log.Info("secret content not verified", "secret", name, "reason", note)
			}
			cs.Secrets = append(cs.Secrets, Change{Kind: KindSecret, Name: name, ID: cur.ID, Action: Unchanged, Note: plan.secretNotes[name]})
			continue
		}
		spec := st.Secrets[name]
		digest, err := contentDigest(spec.Data)
		if err != nil {
			return fmt.Errorf("secret %s: %w", name, err)
		}
		spec.Labels = mergeLabels(mergeLabels(spec.Labels, base), map[string]string{LabelContentDigest: digest})
		resp, err := d.engine.SecretCreate(ctx, spec)
		if err != nil {
			return fmt.Errorf("create secret %s: %w", name, err)
		}
		live.secrets[name] = swarm.Secret{ID: resp.ID, Spec: spec}
		log.Info("secret created", "secret", name)
		cs.Secrets = append(cs.Secrets, Change{Kind: KindSecret, Name: name, ID: resp.ID, Action: Created})
	}
	return nil
}

func (d *Deployer) applyConfigs(ctx context.Context, st *render.Stack, live *liveObjects, base map[string]string, cs *ChangeSet) error {
	log := logr.FromContextOrDiscard(ctx)
	for _, name := range sortedKeys(st.Configs) {
		if cur, ok := live.configs[name]; ok {
			cs.Configs = append(cs.Configs, Change{Kind: KindConfig, Name: name, ID: cur.ID, Action: Unchanged})
			continue
		}
		spec := st.Configs[name]
		digest, err := contentDigest(spec.Data)
		if err != nil {
			return fmt.Errorf("config %s: %w", name, err)
		}
		spec.Labels = mergeLabels(mergeLabels(spec.Labels, base), map[string]string{LabelContentDigest: digest})
		resp, err := d.engine.ConfigCreate(ctx, spec)
		if err != nil {
			return fmt.Errorf("create config %s: %w", name, err)
		}
		live.configs[name] = swarm.Config{ID: resp.ID, Spec: spec}
		log.Info("config created", "config", name)
		cs.Configs = append(cs.Configs, Change{Kind: KindConfig, Name: name, ID: resp.ID, Action: Created})
	}
	return nil
}

// applyServices creates and updates the stack's services, Parallelism at a time. Every
// service is attempted; the errors of all failed ones are joined.
func (d *Deployer) applyServices(ctx context.Context, st *render.Stack, o ApplyOptions, live *liveObjects, base map[string]string, local map[string]bool, cs *ChangeSet) error {
	names := sortedKeys(st.Services)
	changes := make([]*Change, len(names))
	var (
		mu   sync.Mutex
		errs []error
		g    errgroup.Group
	)
	g.SetLimit(d.parallelism)
	for i, name := range names {
		spec, err := desiredService(st.Services[name], base, live)
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			continue
		}
		cur, exists := live.services[name]
		g.Go(func() error {
			var (
				c   Change
				err error
			)
			if exists {
				c, err = d.updateService(ctx, cur, spec, o.ForceUpdate, local[serviceImage(spec)])
			} else {
				c, err = d.createService(ctx, spec, local[serviceImage(spec)])
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return nil
			}
			changes[i] = &c
			return nil
		})
	}
	_ = g.Wait()
	for _, c := range changes {
		if c != nil {
			cs.Services = append(cs.Services, *c)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

func (d *Deployer) createService(ctx context.Context, spec swarm.ServiceSpec, local bool) (Change, error) {
	resp, err := d.engine.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{QueryRegistry: !local})
	if err != nil {
		return Change{}, fmt.Errorf("create service %s: %w", spec.Name, err)
	}
	log := logr.FromContextOrDiscard(ctx)
	for _, w := range resp.Warnings {
		log.Info("service create warning", "service", spec.Name, "warning", w)
	}
	log.Info("service created", "service", spec.Name, "id", resp.ID)
	return Change{Kind: KindService, Name: spec.Name, ID: resp.ID, Action: Created}, nil
}

func (d *Deployer) updateService(ctx context.Context, cur swarm.Service, spec swarm.ServiceSpec, force, local bool) (Change, error) {
	c := Change{Kind: KindService, Name: spec.Name, ID: cur.ID, PrevVersion: cur.Version.Index}
	if !force && serviceUnchanged(cur.Spec, spec) {
		c.Action = Unchanged
		return c, nil
	}
	spec.TaskTemplate.ForceUpdate = cur.Spec.TaskTemplate.ForceUpdate
	if force {
		spec.TaskTemplate.ForceUpdate++
	}
	query := !local
	if want, live := serviceImage(spec), serviceImage(cur.Spec); live != want && pinnedTo(live, want) {
		// Keep the digest the engine pinned on an earlier deploy, as docker stack deploy
		// does: re-resolving it would be a needless update.
		cs := *spec.TaskTemplate.ContainerSpec
		cs.Image = live
		spec.TaskTemplate.ContainerSpec = &cs
		query = false
	}
	resp, err := d.engine.ServiceUpdate(ctx, cur.ID, cur.Version, spec, swarm.ServiceUpdateOptions{QueryRegistry: query})
	if err != nil {
		return Change{}, fmt.Errorf("update service %s: %w", spec.Name, err)
	}
	log := logr.FromContextOrDiscard(ctx)
	for _, w := range resp.Warnings {
		log.Info("service update warning", "service", spec.Name, "warning", w)
	}
	log.Info("service updated", "service", spec.Name, "id", cur.ID, "prevVersion", cur.Version.Index)
	c.Action = Updated
	return c, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
