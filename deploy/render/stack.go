package render

import (
	"encoding/json"
	"fmt"

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
