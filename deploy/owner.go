package deploy

import (
	"maps"
	"slices"

	"github.com/swarmrun/swarmrun/deploy/render"
)

// Owner selects the live objects of a stack that a caller owns, by their labels: the stack's
// namespace label says only which stack an object belongs to, and anyone may put it on
// anything (a forged stack name, a service planted by hand). Apply refuses to update, Prune
// and Remove leave alone, what the Owner does not select, and report it (*NotOwnedError).
//
// Owner's labels must be the ones that name the owner, not the per-deploy ones: for a
// TestRun swarmrun.dev/managed-by and swarmrun.dev/testrun (not swarmrun.dev/role, which
// differs between the base and head deploys), for a warm stack swarmrun.dev/managed-by and
// swarmrun.dev/warm.
//
// The zero Owner selects every object of the stack: docker stack deploy's rule, right for an
// operator's own stack (swarmrun stack deploy, swarmrun stack rm) and for callers that check
// ownership themselves first.
type Owner struct {
	// Labels an object must carry, each with the same value, to be the owner's.
	Labels map[string]string
}

// IsZero reports whether o selects every object.
func (o Owner) IsZero() bool { return len(o.Labels) == 0 }

// Owns reports whether an object labelled labels is o's.
func (o Owner) Owns(labels map[string]string) bool {
	return o.check("", "", labels) == nil
}

// check returns what makes an object not o's (the first owner label, in order, it lacks or
// has with another value), or nil when it is o's.
func (o Owner) check(kind, name string, labels map[string]string) *NotOwned {
	for _, k := range slices.Sorted(maps.Keys(o.Labels)) {
		got, has := labels[k]
		if !has || got != o.Labels[k] {
			return &NotOwned{Kind: kind, Name: name, Label: k, Want: o.Labels[k], Got: got, Missing: !has}
		}
	}
	return nil
}

// checkOwned is Apply's check: every live object that the render would update or reuse as
// the stack's own (services, and secrets, configs and networks it declares without
// external) must be o's. External objects are not the stack's and are not checked.
func (o Owner) checkOwned(st *render.Stack, live *liveObjects) error {
	if o.IsZero() {
		return nil
	}
	e := &NotOwnedError{Stack: st.Name}
	for _, name := range sortedKeys(st.Networks) {
		if n, found, _ := live.swarmNetwork(name); found {
			e.add(o.check(KindNetwork, name, n.Labels))
		}
	}
	for _, name := range sortedKeys(st.Secrets) {
		if s, found := live.secrets[name]; found {
			e.add(o.check(KindSecret, name, s.Spec.Labels))
		}
	}
	for _, name := range sortedKeys(st.Configs) {
		if c, found := live.configs[name]; found {
			e.add(o.check(KindConfig, name, c.Spec.Labels))
		}
	}
	for _, name := range sortedKeys(st.Services) {
		if s, found := live.services[name]; found {
			e.add(o.check(KindService, name, s.Spec.Labels))
		}
	}
	return e.orNil()
}

// owned keeps the objects labelled as the stack's (by their namespace label) that are
// owner's, and reports the others in e. meta gives an object's name and labels.
func owned[T any](owner Owner, stack, kind string, objs []T, e *NotOwnedError, meta func(T) (string, map[string]string)) []T {
	var out []T
	for _, o := range objs {
		name, labels := meta(o)
		if labels[LabelNamespace] != stack {
			continue
		}
		if n := owner.check(kind, name, labels); n != nil {
			e.add(n)
			continue
		}
		out = append(out, o)
	}
	return out
}
