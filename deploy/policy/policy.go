package policy

import (
	"fmt"
	"maps"
	"slices"
)

// Policy is what an operator allows the stacks swarmrun deploys to reach beyond themselves.
// The zero value (Default) allows nothing; the rules with no allow-list (the Docker socket,
// the host network, added capabilities, ...) hold whatever a Policy says.
//
// A Policy belongs to the server (swarmrun serve --policy-file): whoever can write Recipes
// and TestRuns must not be able to widen it.
type Policy struct {
	// Allow is what every deploy that is checked may use.
	Allow `json:",inline"`
	// TrustPublishedBase skips the check for a deploy of a published release tag as an
	// upgrade base or as a warm canonical. Heads are always checked.
	TrustPublishedBase bool `json:"trustPublishedBase,omitempty"`
	// Recipes are additions for one Recipe each, by the Recipe's name, merged onto Allow.
	Recipes map[string]RecipeAllow `json:"recipes,omitempty"`
}

// Allow lists what a stack may use beyond its own objects. Every list is empty by default.
type Allow struct {
	// BindMounts are host path prefixes that read-only bind mounts may use: a path is under
	// a prefix when it equals it or continues it after a "/". Clean absolute paths; never
	// "/", an engine socket path, a directory holding one, or /proc.
	BindMounts []string `json:"bindMounts,omitempty"`
	// WritableBindMounts are host path prefixes that writable bind mounts may use (read-only
	// ones too). Writable is a separate list because a container that can write under a
	// prefix can plant a symlink there that a later bind mount follows anywhere on the host.
	WritableBindMounts []string `json:"writableBindMounts,omitempty"`
	// ExternalSecrets are secret names, outside the stack's own, that services may use.
	ExternalSecrets []string `json:"externalSecrets,omitempty"`
	// ExternalConfigs are config names, outside the stack's own, that services may use.
	ExternalConfigs []string `json:"externalConfigs,omitempty"`
	// ExternalNetworks are network names, outside the stack's own, that services may join.
	// Never "host".
	ExternalNetworks []string `json:"externalNetworks,omitempty"`
	// ExternalVolumes are volume names, outside the stack's own, that services may mount.
	ExternalVolumes []string `json:"externalVolumes,omitempty"`
	// PublishedPorts are the fixed ports services may publish on the swarm's nodes (ingress
	// or host mode). A port published without a number (swarm picks one) needs no entry.
	PublishedPorts []int `json:"publishedPorts,omitempty"`
}

// RecipeAllow is the section of one Recipe: its additions, and optionally the source they
// are bound to.
type RecipeAllow struct {
	// Source, when set, is the Recipe's spec.source.url the section is for: a Recipe of the
	// same name with another source (which anyone who may write Recipes could make) does not
	// get the additions. Compared as written.
	Source string `json:"source,omitempty"`
	// Allow is merged onto the top-level lists.
	Allow `json:",inline"`
}

// Default is the safe policy: nothing beyond the stack's own objects, nothing trusted.
func Default() Policy { return Policy{} }

// Role is what a deploy is for.
type Role string

// The roles of a deploy.
const (
	// RoleBase is a run's upgrade base.
	RoleBase Role = "base"
	// RoleHead is a run's head, the change under test: always checked.
	RoleHead Role = "head"
	// RoleWarm is a warm canonical's long-lived stack.
	RoleWarm Role = "warm"
)

// Deploy says which deploy of which Recipe a stack is.
type Deploy struct {
	// Recipe is the Recipe's name, which selects its section of the policy.
	Recipe string
	// Source is the Recipe's spec.source.url, matched against a section's source.
	Source string
	// Role is what the deploy is for.
	Role Role
	// Published is true when the deploy is of a published release tag (a version base, a
	// warm canonical), false for a branch tip or any other commit.
	Published bool
}

func (d Deploy) describe() string {
	s := string(d.Role)
	if d.Published {
		s += " (published)"
	}
	if d.Recipe != "" {
		s += " of recipe " + d.Recipe
	}
	return s
}

func (d Deploy) validate() error {
	switch d.Role {
	case RoleBase, RoleHead, RoleWarm:
		return nil
	}
	return fmt.Errorf("deploy policy: unknown role %q (want base, head or warm)", d.Role)
}

// Trusts reports whether the policy skips the check of d: only with TrustPublishedBase, and
// only for a published base or warm deploy.
func (p Policy) Trusts(d Deploy) bool {
	return p.TrustPublishedBase && d.Published && (d.Role == RoleBase || d.Role == RoleWarm)
}

// Effective is what a deploy of the Recipe named recipe, from source, may use: the top-level
// lists merged with the Recipe's section (sorted, without duplicates). A section bound to
// another source is left out.
func (p Policy) Effective(recipe, source string) Allow {
	sec, ok := p.Recipes[recipe]
	if !ok || (sec.Source != "" && sec.Source != source) {
		return p.Allow.merge(Allow{})
	}
	return p.Allow.merge(sec.Allow)
}

// sectionNote explains a recipe section that Effective left out, or is empty.
func (p Policy) sectionNote(recipe, source string) string {
	sec, ok := p.Recipes[recipe]
	if !ok || sec.Source == "" || sec.Source == source {
		return ""
	}
	return fmt.Sprintf("policy section recipes.%s not applied: it is for source %s, the Recipe's source is %q", recipe, sec.Source, source)
}

// merge is every entry of a and b, each list sorted and without duplicates.
func (a Allow) merge(b Allow) Allow {
	return Allow{
		BindMounts:         union(a.BindMounts, b.BindMounts),
		WritableBindMounts: union(a.WritableBindMounts, b.WritableBindMounts),
		ExternalSecrets:    union(a.ExternalSecrets, b.ExternalSecrets),
		ExternalConfigs:    union(a.ExternalConfigs, b.ExternalConfigs),
		ExternalNetworks:   union(a.ExternalNetworks, b.ExternalNetworks),
		ExternalVolumes:    union(a.ExternalVolumes, b.ExternalVolumes),
		PublishedPorts:     union(a.PublishedPorts, b.PublishedPorts),
	}
}

// AllowsSecret reports whether name is in ExternalSecrets. The deploy pipeline asks it before
// generating values for a stack's external secrets: an allowed one is the operator's, and
// must stay external (checked to exist) rather than be generated in its place.
func (a Allow) AllowsSecret(name string) bool { return slices.Contains(a.ExternalSecrets, name) }

// union merges lists into one sorted list without duplicates; nil when all are empty.
func union[T string | int](lists ...[]T) []T {
	set := map[T]bool{}
	for _, l := range lists {
		for _, v := range l {
			set[v] = true
		}
	}
	if len(set) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(set))
}
