package fake

import (
	"context"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/network"
)

// netObj is a network in the store.
type netObj struct {
	n          network.Summary
	predefined bool
}

// addBuiltinNetworks creates the networks every swarm node has, which cannot be created again
// or removed.
func (f *Fake) addBuiltinNetworks() {
	for _, b := range []struct{ name, driver, scope string }{
		{"bridge", "bridge", "local"}, {"host", "host", "local"}, {"none", "null", "local"}, {"ingress", "overlay", "swarm"},
	} {
		n := f.newNetwork(b.name, network.CreateOptions{Driver: b.driver, Scope: b.scope, Ingress: b.name == "ingress"})
		n.predefined = true
	}
}

// NetworkCreate creates a network. A name that any network already has is a conflict: the
// client (API < 1.44) asks the engine to check duplicates, and the engine then refuses an
// overlay network whose name a local network has too.
func (f *Fake) NetworkCreate(ctx context.Context, name string, options network.CreateOptions) (network.CreateResponse, error) {
	if err := f.enter(ctx, "NetworkCreate", name, options); err != nil {
		return network.CreateResponse{}, err
	}
	f.lock()
	defer f.unlock()
	if f.networkByName(name) != nil {
		return network.CreateResponse{}, errConflict("network with name %s already exists", name)
	}
	n := f.newNetwork(name, options)
	attrs := map[string]string{"name": name, "type": n.n.Driver}
	f.emit("network", "create", n.n.ID, attrs, n.n.Scope)
	return network.CreateResponse{ID: n.n.ID}, nil
}

func (f *Fake) newNetwork(name string, o network.CreateOptions) *netObj {
	driver, scope := o.Driver, o.Scope
	if driver == "" {
		driver = "bridge"
	}
	if scope == "" {
		scope = "local"
		if driver == "overlay" {
			scope = "swarm"
		}
	}
	id := f.newHexID()
	if scope == "swarm" {
		id = f.newID()
	}
	seq := len(f.networks)
	n := &netObj{n: network.Summary{
		Name: name, ID: id, Created: f.clock(), Scope: scope, Driver: driver,
		IPAM:     network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: fmt.Sprintf("10.0.%d.0/24", seq), Gateway: fmt.Sprintf("10.0.%d.1", seq)}}},
		Internal: o.Internal, Attachable: o.Attachable, Ingress: o.Ingress, ConfigOnly: o.ConfigOnly,
		Options: clone(o.Options), Labels: clone(o.Labels),
	}}
	if o.IPAM != nil {
		n.n.IPAM = clone(*o.IPAM)
	}
	if n.n.Options == nil {
		n.n.Options = map[string]string{}
	}
	if driver == "overlay" {
		n.n.Options["com.docker.network.driver.overlay.vxlanid_list"] = fmt.Sprint(4096 + seq)
	}
	if n.n.Labels == nil {
		n.n.Labels = map[string]string{}
	}
	f.networks[id] = n
	f.bump()
	return n
}

// NetworkList lists networks. The engine matches id by prefix and, for swarm networks, name
// exactly (a prefix of a swarm network's name matches nothing), local names by substring.
func (f *Fake) NetworkList(ctx context.Context, options network.ListOptions) ([]network.Summary, error) {
	if err := f.enter(ctx, "NetworkList", options); err != nil {
		return nil, err
	}
	if err := validateFilters(options.Filters, "dangling", "driver", "id", "label", "name", "scope", "type"); err != nil {
		return nil, err
	}
	f.lock()
	defer f.unlock()
	var out []network.Summary
	for _, id := range sortedKeys(f.networks) {
		n := f.networks[id]
		a := options.Filters
		if a.Contains("name") {
			if n.n.Scope == "swarm" && !a.ExactMatch("name", n.n.Name) {
				continue
			}
			if n.n.Scope != "swarm" && !matchSubstring(a.Get("name"), n.n.Name) {
				continue
			}
		}
		typ := "custom"
		if n.predefined {
			typ = "builtin"
		}
		if !matchPrefix(a, "id", n.n.ID) || !a.MatchKVList("label", n.n.Labels) ||
			(a.Contains("driver") && !a.ExactMatch("driver", n.n.Driver)) ||
			(a.Contains("scope") && !a.ExactMatch("scope", n.n.Scope)) ||
			(a.Contains("type") && !a.ExactMatch("type", typ)) {
			continue
		}
		out = append(out, clone(n.n))
	}
	return out, nil
}

// NetworkRemove removes a network by ID, name or ID prefix. A network a service still uses is
// refused as swarmkit refuses it (FailedPrecondition, an invalid-argument error on the wire).
func (f *Fake) NetworkRemove(ctx context.Context, networkID string) error {
	if err := f.enter(ctx, "NetworkRemove", networkID); err != nil {
		return err
	}
	f.lock()
	defer f.unlock()
	n := f.findNetwork(networkID)
	if n == nil {
		return errNotFound("network %s not found", networkID)
	}
	if n.predefined {
		return &engineError{msg: fmt.Sprintf("%s is a pre-defined network and cannot be removed", n.n.Name), class: cerrdefs.ErrPermissionDenied}
	}
	for _, s := range f.order {
		for _, a := range s.s.Spec.TaskTemplate.Networks {
			if a.Target == n.n.ID {
				return errInvalid("rpc error: code = FailedPrecondition desc = network %s is in use by service %s", n.n.ID, s.s.ID)
			}
		}
	}
	delete(f.networks, n.n.ID)
	f.bump()
	action := events.ActionDestroy
	if n.n.Scope == "swarm" {
		action = events.ActionRemove
	}
	f.emit("network", action, n.n.ID, map[string]string{"name": n.n.Name, "type": n.n.Driver}, n.n.Scope)
	return nil
}

// findNetwork resolves an ID, a name or a unique ID prefix.
func (f *Fake) findNetwork(ref string) *netObj {
	if n, ok := f.networks[ref]; ok {
		return n
	}
	if n := f.networkByName(ref); n != nil {
		return n
	}
	var found *netObj
	for _, n := range f.networks {
		if ref != "" && strings.HasPrefix(n.n.ID, ref) {
			if found != nil {
				return nil
			}
			found = n
		}
	}
	return found
}

func (f *Fake) networkByName(name string) *netObj {
	for _, n := range f.networks {
		if n.n.Name == name {
			return n
		}
	}
	return nil
}
