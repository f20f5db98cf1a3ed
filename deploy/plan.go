package deploy

// The pure half of Apply: what to check, create and send, decided from the render and the
// live objects alone.

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/render"
)

// swarmNetwork returns the swarm-scoped network called name. A local network of that name
// is returned with ok false so the caller can say why it does not count.
func (l *liveObjects) swarmNetwork(name string) (n network.Summary, found, ok bool) {
	for _, n := range l.networks {
		if n.Name == name && n.Scope == "swarm" {
			return n, true, true
		}
	}
	for _, n := range l.networks {
		if n.Name == name {
			return n, true, false
		}
	}
	return network.Summary{}, false, false
}

func checkExternal(st *render.Stack, live *liveObjects) error {
	missing := &MissingExternalError{}
	for _, name := range st.ExternalNetworks {
		if !isUserDefinedNetwork(name) {
			continue
		}
		n, found, ok := live.swarmNetwork(name)
		switch {
		case !found:
			missing.Networks = append(missing.Networks, name)
		case !ok:
			missing.Networks = append(missing.Networks, fmt.Sprintf("%s (scope %q, not swarm)", name, n.Scope))
		}
	}
	for _, name := range st.ExternalSecrets {
		if _, ok := live.secrets[name]; !ok {
			missing.Secrets = append(missing.Secrets, name)
		}
	}
	for _, name := range st.ExternalConfigs {
		if _, ok := live.configs[name]; !ok {
			missing.Configs = append(missing.Configs, name)
		}
	}
	if missing.empty() {
		return nil
	}
	sort.Strings(missing.Networks)
	sort.Strings(missing.Secrets)
	sort.Strings(missing.Configs)
	return missing
}

// isUserDefinedNetwork is false for the networks every node has (host, bridge, none): they
// cannot be looked up as swarm networks and need not be.
func isUserDefinedNetwork(name string) bool {
	switch name {
	case "host", "bridge", "none", "default", "ingress":
		return false
	}
	return !strings.HasPrefix(name, "container:")
}

// objectPlan records, for each rendered secret and config, the live one it matches (if
// any) and what can be said about its content.
type objectPlan struct {
	secretNotes map[string]string
}

// planObjects checks every rendered secret and config against the live ones: same name and
// different content is an *ImmutableError. A config's payload is read back and compared; a
// secret's payload cannot be, so its content-digest label is compared. A secret that exists
// without that label (created by hand or by docker stack deploy) is accepted unverified and
// flagged in the Change's Note: the engine itself refuses payload updates, and refusing the
// deploy would make every hand-made secret unusable.
func planObjects(st *render.Stack, live *liveObjects) (*objectPlan, error) {
	plan := &objectPlan{secretNotes: map[string]string{}}
	var errs []error
	for _, name := range sortedKeys(st.Secrets) {
		cur, ok := live.secrets[name]
		if !ok {
			continue
		}
		same, known := sameContent(cur.Spec.Labels[LabelContentDigest], st.Secrets[name].Data)
		switch {
		case !known:
			plan.secretNotes[name] = "exists without a content digest: content not verified"
		case !same:
			errs = append(errs, &ImmutableError{Kind: KindSecret, Name: name})
		}
	}
	for _, name := range sortedKeys(st.Configs) {
		cur, ok := live.configs[name]
		if !ok {
			continue
		}
		want := st.Configs[name].Data
		if cur.Spec.Data != nil {
			if string(cur.Spec.Data) != string(want) {
				errs = append(errs, &ImmutableError{Kind: KindConfig, Name: name})
			}
			continue
		}
		if same, known := sameContent(cur.Spec.Labels[LabelContentDigest], want); known && !same {
			errs = append(errs, &ImmutableError{Kind: KindConfig, Name: name})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return plan, nil
}

// desiredService is the spec Apply sends for a rendered service: its own copy, with the
// ownership labels, the secret and config IDs filled in, and the spec-digest label.
func desiredService(rendered swarm.ServiceSpec, labels map[string]string, live *liveObjects) (swarm.ServiceSpec, error) {
	spec := rendered
	spec.Labels = mergeLabels(rendered.Labels, labels)
	if cs := rendered.TaskTemplate.ContainerSpec; cs != nil {
		c := *cs
		c.Secrets = make([]*swarm.SecretReference, 0, len(cs.Secrets))
		for _, ref := range cs.Secrets {
			r := *ref
			if r.SecretID == "" {
				s, ok := live.secrets[r.SecretName]
				if !ok {
					return spec, fmt.Errorf("service %s: secret %s not found", spec.Name, r.SecretName)
				}
				r.SecretID = s.ID
			}
			c.Secrets = append(c.Secrets, &r)
		}
		c.Configs = make([]*swarm.ConfigReference, 0, len(cs.Configs))
		for _, ref := range cs.Configs {
			r := *ref
			if r.ConfigID == "" {
				cfg, ok := live.configs[r.ConfigName]
				if !ok {
					return spec, fmt.Errorf("service %s: config %s not found", spec.Name, r.ConfigName)
				}
				r.ConfigID = cfg.ID
			}
			c.Configs = append(c.Configs, &r)
		}
		if len(cs.Secrets) == 0 {
			c.Secrets = cs.Secrets
		}
		if len(cs.Configs) == 0 {
			c.Configs = cs.Configs
		}
		spec.TaskTemplate.ContainerSpec = &c
	}
	digest, err := specDigest(spec)
	if err != nil {
		return spec, err
	}
	spec.Labels[LabelSpecDigest] = digest
	return spec, nil
}

// serviceUnchanged is the rule documented on Apply.
func serviceUnchanged(live, want swarm.ServiceSpec) bool {
	if live.Labels[LabelSpecDigest] != want.Labels[LabelSpecDigest] {
		return false
	}
	if !pinnedTo(serviceImage(live), serviceImage(want)) {
		return false
	}
	lr, lok := serviceReplicas(live)
	wr, wok := serviceReplicas(want)
	return lok == wok && lr == wr
}

// pinnedTo reports whether live is the image want, possibly pinned to a digest by the
// engine ("name:tag@sha256:...").
func pinnedTo(live, want string) bool {
	return live == want || (!strings.Contains(want, "@") && strings.HasPrefix(live, want+"@"))
}
