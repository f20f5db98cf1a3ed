package render

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
)

// redactedSecret is a secret spec whose data is replaced by its digest.
type redactedSecret struct {
	swarm.SecretSpec
	// Data shadows SecretSpec.Data, which is therefore never marshalled.
	Data string `json:",omitempty"`
}

// stackView is the printable form of a Stack: secret data replaced by its digest.
type stackView struct {
	Name             string
	Networks         map[string]network.CreateOptions
	ExternalNetworks []string
	Secrets          map[string]redactedSecret
	Configs          map[string]swarm.ConfigSpec
	ExternalSecrets  []string
	ExternalConfigs  []string
	Volumes          []string
	ExternalVolumes  []string
	Services         map[string]swarm.ServiceSpec
	Images           map[string]string
	Digest           string `json:",omitempty"`
	Warnings         []string
}

func (s Stack) view() stackView {
	v := stackView{
		Name:             s.Name,
		Networks:         s.Networks,
		ExternalNetworks: s.ExternalNetworks,
		Secrets:          make(map[string]redactedSecret, len(s.Secrets)),
		Configs:          s.Configs,
		ExternalSecrets:  s.ExternalSecrets,
		ExternalConfigs:  s.ExternalConfigs,
		Volumes:          s.Volumes,
		ExternalVolumes:  s.ExternalVolumes,
		Services:         s.Services,
		Images:           s.Images,
		Digest:           s.Digest,
		Warnings:         s.Warnings,
	}
	for name, spec := range s.Secrets {
		r := redactedSecret{SecretSpec: spec}
		if spec.Data != nil {
			r.Data = dataDigest(spec.Data)
		}
		v.Secrets[name] = r
	}
	return v
}

// MarshalJSON writes the stack with each secret's data replaced by its sha256 digest, so a
// stack can be recorded or printed without leaking secrets. The output therefore does not
// round-trip: secret data is lost.
func (s Stack) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.view())
}

// String summarises the stack without any secret data.
func (s Stack) String() string {
	return fmt.Sprintf("stack %s: %d services, %d networks, %d secrets, %d configs, digest %s",
		s.Name, len(s.Services), len(s.Networks), len(s.Secrets), len(s.Configs), s.Digest)
}

// GoString keeps %#v from printing secret data.
func (s Stack) GoString() string { return "render.Stack{" + s.String() + "}" }

// ResolveIDs fills in the ID of every secret and config reference of every service from
// name→ID maps (the secrets and configs as created or found on the engine), which the
// engine requires and a render cannot know. It fails, changing nothing, if a referenced
// name has no ID, naming the service and the object.
//
// Stack.Digest is unaffected: it describes the render, whose references have no IDs.
func (s *Stack) ResolveIDs(secretIDs, configIDs map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(s.Services)) {
		c := s.Services[name].TaskTemplate.ContainerSpec
		if c == nil {
			continue
		}
		for _, ref := range c.Secrets {
			if secretIDs[ref.SecretName] == "" {
				return fmt.Errorf("service %s: no ID for secret %s", name, ref.SecretName)
			}
		}
		for _, ref := range c.Configs {
			if configIDs[ref.ConfigName] == "" {
				return fmt.Errorf("service %s: no ID for config %s", name, ref.ConfigName)
			}
		}
	}
	for name, spec := range s.Services {
		c := spec.TaskTemplate.ContainerSpec
		if c == nil {
			continue
		}
		// The spec may share its reference pointers with copies the caller holds.
		cc := *c
		cc.Secrets = make([]*swarm.SecretReference, len(c.Secrets))
		for i, ref := range c.Secrets {
			r := *ref
			r.SecretID = secretIDs[r.SecretName]
			cc.Secrets[i] = &r
		}
		cc.Configs = make([]*swarm.ConfigReference, len(c.Configs))
		for i, ref := range c.Configs {
			r := *ref
			r.ConfigID = configIDs[r.ConfigName]
			cc.Configs[i] = &r
		}
		spec.TaskTemplate.ContainerSpec = &cc
		s.Services[name] = spec
	}
	return nil
}

// ExternalNetworksToCheck are the external networks that must exist, swarm-scoped, before
// a deploy: like `docker stack deploy`, it leaves out docker's built-in networks (host,
// bridge, none, ...), which exist on every node.
func (s *Stack) ExternalNetworksToCheck() []string {
	var out []string
	for _, name := range s.ExternalNetworks {
		if container.NetworkMode(name).IsUserDefined() {
			out = append(out, name)
		}
	}
	return out
}
