package fake

import (
	"context"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/swarm"
)

// SecretCreate stores a secret; a name that exists is a conflict. Secrets are immutable here
// as swarmrun uses them: a new content needs a new name.
func (f *Fake) SecretCreate(ctx context.Context, secret swarm.SecretSpec) (swarm.SecretCreateResponse, error) {
	if err := f.enter(ctx, "SecretCreate", secret); err != nil {
		return swarm.SecretCreateResponse{}, err
	}
	f.lock()
	defer f.unlock()
	if !validName(secret.Name, 64, "-_.") {
		return swarm.SecretCreateResponse{}, errInvalid("rpc error: code = InvalidArgument desc = invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]")
	}
	for _, s := range f.secrets {
		if s.Spec.Name == secret.Name {
			return swarm.SecretCreateResponse{}, errConflict("rpc error: code = AlreadyExists desc = secret %s already exists", secret.Name)
		}
	}
	now := f.clock()
	spec := clone(secret)
	spec.Data = nil // the engine never returns a secret's data
	if spec.Labels == nil {
		spec.Labels = map[string]string{}
	}
	s := &swarm.Secret{ID: f.newID(), Meta: swarm.Meta{Version: f.bump()}, Spec: spec}
	s.CreatedAt, s.UpdatedAt = now, now
	f.secrets[s.ID] = s
	f.emit("secret", "create", s.ID, map[string]string{"name": spec.Name}, "swarm")
	return swarm.SecretCreateResponse{ID: s.ID}, nil
}

// SecretList lists secrets: id and name by prefix, label by key or key=value.
func (f *Fake) SecretList(ctx context.Context, options swarm.SecretListOptions) ([]swarm.Secret, error) {
	if err := f.enter(ctx, "SecretList", options); err != nil {
		return nil, err
	}
	if err := validateFilters(options.Filters, "id", "label", "name", "names"); err != nil {
		return nil, err
	}
	f.lock()
	defer f.unlock()
	var out []swarm.Secret
	for _, id := range sortedKeys(f.secrets) {
		s := f.secrets[id]
		if matchObject(options.Filters.Get("id"), options.Filters.Get("name"), options.Filters.Get("names"), s.ID, s.Spec.Name) &&
			options.Filters.MatchKVList("label", s.Spec.Labels) {
			out = append(out, clone(*s))
		}
	}
	return out, nil
}

// SecretRemove removes a secret by ID, name or unique ID prefix, as the engine resolves it;
// one that a service references is refused.
func (f *Fake) SecretRemove(ctx context.Context, id string) error {
	if err := f.enter(ctx, "SecretRemove", id); err != nil {
		return err
	}
	f.lock()
	defer f.unlock()
	s := findByRef(f.secrets, id, func(s *swarm.Secret) (string, string) { return s.ID, s.Spec.Name })
	if s == nil {
		return errNotFound("secret %s not found", id)
	}
	id = s.ID
	var users []string
	for _, svc := range f.order {
		for _, r := range svc.s.Spec.TaskTemplate.ContainerSpec.Secrets {
			if r.SecretID == id {
				users = append(users, svc.s.Spec.Name)
				break
			}
		}
	}
	if len(users) > 0 {
		return errInvalid("rpc error: code = InvalidArgument desc = secret '%s' is in use by the following service%s: %s", s.Spec.Name, plural(users), strings.Join(users, ", "))
	}
	delete(f.secrets, id)
	f.bump()
	f.emit("secret", "remove", id, map[string]string{"name": s.Spec.Name}, "swarm")
	return nil
}

// ConfigCreate stores a config; a name that exists is a conflict.
func (f *Fake) ConfigCreate(ctx context.Context, config swarm.ConfigSpec) (swarm.ConfigCreateResponse, error) {
	if err := f.enter(ctx, "ConfigCreate", config); err != nil {
		return swarm.ConfigCreateResponse{}, err
	}
	f.lock()
	defer f.unlock()
	if !validName(config.Name, 64, "-_.") {
		return swarm.ConfigCreateResponse{}, errInvalid("rpc error: code = InvalidArgument desc = invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]")
	}
	for _, c := range f.configs {
		if c.Spec.Name == config.Name {
			return swarm.ConfigCreateResponse{}, errConflict("rpc error: code = AlreadyExists desc = config %s already exists", config.Name)
		}
	}
	now := f.clock()
	spec := clone(config)
	if spec.Labels == nil {
		spec.Labels = map[string]string{}
	}
	c := &swarm.Config{ID: f.newID(), Meta: swarm.Meta{Version: f.bump()}, Spec: spec}
	c.CreatedAt, c.UpdatedAt = now, now
	f.configs[c.ID] = c
	f.emit("config", "create", c.ID, map[string]string{"name": spec.Name}, "swarm")
	return swarm.ConfigCreateResponse{ID: c.ID}, nil
}

// ConfigList lists configs, with their data, filtered like secrets.
func (f *Fake) ConfigList(ctx context.Context, options swarm.ConfigListOptions) ([]swarm.Config, error) {
	if err := f.enter(ctx, "ConfigList", options); err != nil {
		return nil, err
	}
	if err := validateFilters(options.Filters, "id", "label", "name", "names"); err != nil {
		return nil, err
	}
	f.lock()
	defer f.unlock()
	var out []swarm.Config
	for _, id := range sortedKeys(f.configs) {
		c := f.configs[id]
		if matchObject(options.Filters.Get("id"), options.Filters.Get("name"), options.Filters.Get("names"), c.ID, c.Spec.Name) &&
			options.Filters.MatchKVList("label", c.Spec.Labels) {
			out = append(out, clone(*c))
		}
	}
	return out, nil
}

// ConfigRemove removes a config by ID, name or unique ID prefix; one that a service
// references is refused.
func (f *Fake) ConfigRemove(ctx context.Context, id string) error {
	if err := f.enter(ctx, "ConfigRemove", id); err != nil {
		return err
	}
	f.lock()
	defer f.unlock()
	c := findByRef(f.configs, id, func(c *swarm.Config) (string, string) { return c.ID, c.Spec.Name })
	if c == nil {
		return errNotFound("config %s not found", id)
	}
	id = c.ID
	var users []string
	for _, svc := range f.order {
		for _, r := range svc.s.Spec.TaskTemplate.ContainerSpec.Configs {
			if r.ConfigID == id {
				users = append(users, svc.s.Spec.Name)
				break
			}
		}
	}
	if len(users) > 0 {
		return errInvalid("rpc error: code = InvalidArgument desc = config '%s' is in use by the following service%s: %s", c.Spec.Name, plural(users), strings.Join(users, ", "))
	}
	delete(f.configs, id)
	f.bump()
	f.emit("config", "remove", id, map[string]string{"name": c.Spec.Name}, "swarm")
	return nil
}

// matchObject is swarmkit's matching for secrets and configs: id and name by prefix, names
// exactly; each given filter must match.
func matchObject(ids, names, exact []string, id, name string) bool {
	anyPrefix := func(vals []string, s string) bool {
		for _, v := range vals {
			if strings.HasPrefix(s, v) {
				return true
			}
		}
		return len(vals) == 0
	}
	if !anyPrefix(ids, id) || !anyPrefix(names, name) {
		return false
	}
	if len(exact) > 0 {
		sort.Strings(exact)
		i := sort.SearchStrings(exact, name)
		return i < len(exact) && exact[i] == name
	}
	return true
}

func plural(xs []string) string {
	if len(xs) > 1 {
		return "s"
	}
	return ""
}

// findByRef resolves a reference the way the engine resolves secrets and configs: the exact
// ID, then the exact name, then a unique ID prefix.
func findByRef[T any](objs map[string]T, ref string, key func(T) (id, name string)) T {
	var zero T
	if o, ok := objs[ref]; ok {
		return o
	}
	for _, o := range objs {
		if _, name := key(o); name == ref {
			return o
		}
	}
	found, n := zero, 0
	for _, o := range objs {
		if id, _ := key(o); ref != "" && strings.HasPrefix(id, ref) {
			found, n = o, n+1
		}
	}
	if n != 1 {
		return zero
	}
	return found
}
