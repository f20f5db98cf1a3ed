package policy

import (
	"reflect"
	"testing"
)

func TestEffective(t *testing.T) {
	p := Policy{
		Allow: Allow{ExternalNetworks: []string{"proxy", "backups"}, PublishedPorts: []int{8080}},
		Recipes: map[string]RecipeAllow{
			"traefik": {Source: traefikSource, Allow: Allow{ExternalNetworks: []string{"proxy"}, PublishedPorts: []int{443, 80}}},
			"backup":  {Allow: Allow{BindMounts: []string{"/srv/backups"}, ExternalSecrets: []string{"restic_key"}}},
		},
	}
	top := Allow{ExternalNetworks: []string{"backups", "proxy"}, PublishedPorts: []int{8080}}
	tests := []struct {
		name           string
		recipe, source string
		want           Allow
	}{
		{name: "no section", recipe: "demo", want: top},
		{name: "section without a source", recipe: "backup", source: "anything",
			want: Allow{BindMounts: []string{"/srv/backups"}, ExternalSecrets: []string{"restic_key"},
				ExternalNetworks: []string{"backups", "proxy"}, PublishedPorts: []int{8080}}},
		{name: "section with its source, merged and sorted without duplicates", recipe: "traefik", source: traefikSource,
			want: Allow{ExternalNetworks: []string{"backups", "proxy"}, PublishedPorts: []int{80, 443, 8080}}},
		{name: "section with another source", recipe: "traefik", source: "/srv/recipes/traefik", want: top},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Effective(tt.recipe, tt.source); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Effective(%q, %q) = %+v, want %+v", tt.recipe, tt.source, got, tt.want)
			}
		})
	}
	if got := Default().Effective("demo", ""); !reflect.DeepEqual(got, Allow{}) {
		t.Errorf("Default().Effective = %+v, want nothing allowed", got)
	}
}

func TestTrusts(t *testing.T) {
	tests := []struct {
		trust bool
		d     Deploy
		want  bool
	}{
		{true, Deploy{Role: RoleBase, Published: true}, true},
		{true, Deploy{Role: RoleWarm, Published: true}, true},
		{true, Deploy{Role: RoleBase}, false},
		{true, Deploy{Role: RoleWarm}, false},
		{true, Deploy{Role: RoleHead, Published: true}, false},
		{false, Deploy{Role: RoleBase, Published: true}, false},
		{false, Deploy{Role: RoleWarm, Published: true}, false},
	}
	for _, tt := range tests {
		if got := (Policy{TrustPublishedBase: tt.trust}).Trusts(tt.d); got != tt.want {
			t.Errorf("Trusts(%+v) with trustPublishedBase %t = %t, want %t", tt.d, tt.trust, got, tt.want)
		}
	}
}

func TestNaturalCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"volumes[2]", "volumes[10]", -1},
		{"volumes[10]", "volumes[2]", 1},
		{"volumes[2]", "volumes[2]", 0},
		{"cap_add", "volumes[0]", -1},
		{"a01", "a1", 1},
		{"networks", "networks[x]", -1},
	}
	for _, tt := range tests {
		if got := naturalCompare(tt.a, tt.b); got != tt.want {
			t.Errorf("naturalCompare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
