package policy

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// examplePolicy is testdata/policy/example.{yaml,json}.
var examplePolicy = Policy{
	Allow: Allow{
		BindMounts:       []string{"/srv/shared-fixtures"},
		ExternalSecrets:  []string{"proxy_cert"},
		ExternalNetworks: []string{"proxy"},
	},
	Recipes: map[string]RecipeAllow{
		"traefik": {
			Source: "https://git.coopcloud.tech/coop-cloud/traefik.git",
			Allow:  Allow{PublishedPorts: []int{80, 443}},
		},
		"backup-bot-two": {Allow: Allow{BindMounts: []string{"/srv/backups"}}},
	},
}

func TestLoad(t *testing.T) {
	for _, file := range []string{"example.yaml", "example.json"} {
		t.Run(file, func(t *testing.T) {
			got, err := Load(filepath.Join("testdata", "policy", file))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			// The YAML writes empty lists out where the JSON leaves them out: compare the
			// JSON forms, which omit both.
			if g, w := mustJSON(t, got), mustJSON(t, examplePolicy); g != w {
				t.Errorf("Load:\n got %s\nwant %s", g, w)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte("bindMounts: [/var/run]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := "invalid deploy policy " + path + `: bindMounts[0]: "/var/run": it holds the Docker socket /var/run/docker.sock, which is never mounted`
	if err == nil || err.Error() != want {
		t.Errorf("Load:\n got %v\nwant %s", err, want)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("Load of a missing file = %v, want a read error", err)
	}
}

func TestParseEmptyIsDefault(t *testing.T) {
	for _, in := range []string{"", "# nothing\n", "null", "{}"} {
		p, err := Parse([]byte(in))
		if err != nil || !reflect.DeepEqual(p, Default()) {
			t.Errorf("Parse(%q) = %+v, %v; want Default()", in, p, err)
		}
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "unknown field",
			in:   "bindMount: [/srv]\n",
			want: []string{"bindMount: unknown field (want one of bindMounts, externalConfigs, externalNetworks, externalSecrets, externalVolumes, publishedPorts, recipes, trustPublishedBase, writableBindMounts)"},
		},
		{
			name: "unknown field in a recipe's section",
			in:   "recipes:\n  traefik:\n    externalNetwork: [proxy]\n",
			want: []string{"recipes.traefik.externalNetwork: unknown field (want one of bindMounts, externalConfigs, externalNetworks, externalSecrets, externalVolumes, publishedPorts, source, writableBindMounts)"},
		},
		{
			name: "trust is top-level only",
			in:   "recipes:\n  traefik:\n    trustPublishedBase: true\n",
			want: []string{"recipes.traefik.trustPublishedBase: unknown field (want one of bindMounts, externalConfigs, externalNetworks, externalSecrets, externalVolumes, publishedPorts, source, writableBindMounts)"},
		},
		{
			name: "wrong types",
			in:   "bindMounts: /srv\npublishedPorts: [\"80\", 1.5]\ntrustPublishedBase: \"yes\"\nrecipes: [a]\n",
			want: []string{
				`bindMounts: expected a list, got the string "/srv"`,
				`publishedPorts[0]: expected an integer, got the string "80"`,
				`publishedPorts[1]: expected an integer, got the number 1.5`,
				`recipes: expected a mapping, got a list`,
				`trustPublishedBase: expected true or false, got the string "yes"`,
			},
		},
		{
			name: "not a mapping",
			in:   "- a\n",
			want: []string{"expected a mapping, got a list"},
		},
		{
			name: "key given twice",
			in:   "bindMounts: [/a]\nbindMounts: [/b]\n",
			want: []string{`yaml: unmarshal errors: line 2: key "bindMounts" already set in map`},
		},
		{
			name: "host paths",
			in:   "bindMounts: [/, relative, /srv/x/, /srv/../etc]\nwritableBindMounts: [/var/run, /run/docker.sock, /proc/sys, /run/containerd/x, /var]\n",
			want: []string{
				`bindMounts[0]: "/" would allow every host path`,
				`bindMounts[1]: "relative" is not an absolute path`,
				`bindMounts[2]: "/srv/x/" is not clean (write /srv/x)`,
				`bindMounts[3]: "/srv/../etc" is not clean (write /etc)`,
				`writableBindMounts[0]: "/var/run": it holds the Docker socket /var/run/docker.sock, which is never mounted`,
				`writableBindMounts[1]: "/run/docker.sock": the Docker socket is never mounted`,
				`writableBindMounts[2]: "/proc/sys": it is inside /proc, which reaches the host's whole tree (the Docker socket too) through /proc/<pid>/root and is never mounted`,
				`writableBindMounts[3]: "/run/containerd/x": it is inside the engine's runtime directory /run/containerd (its sockets, container namespaces), which is never mounted`,
				`writableBindMounts[4]: "/var": it holds the Docker socket /var/run/docker.sock, which is never mounted`,
			},
		},
		{
			name: "names and ports",
			in: "externalNetworks: [host, \"bad name\"]\nexternalSecrets: [\"-x\", " + strings.Repeat("s", 65) + "]\n" +
				"externalVolumes: [v]\npublishedPorts: [0, 70000]\n",
			want: []string{
				`externalNetworks[0]: the host network is never allowed (rule host-network)`,
				`externalNetworks[1]: "bad name" is not a valid name`,
				`externalSecrets[0]: "-x" is not a valid name`,
				`externalSecrets[1]: "` + strings.Repeat("s", 65) + `" is not a valid name`,
				`externalVolumes[0]: "v" is not a valid name`,
				`publishedPorts[0]: 0 is not a port (1 to 65535)`,
				`publishedPorts[1]: 70000 is not a port (1 to 65535)`,
			},
		},
		{
			name: "recipe sections",
			in:   "recipes:\n  Traefik: {source: \" x\"}\n  ok:\n    bindMounts: [/run]\n",
			want: []string{
				`recipes.Traefik: "Traefik" is not a Recipe name (a DNS label of at most 40 characters)`,
				`recipes.Traefik.source: has leading or trailing spaces`,
				`recipes.ok.bindMounts[0]: "/run": it holds the Docker socket /run/docker.sock, which is never mounted`,
			},
		},
		{
			name: "syntax",
			in:   "bindMounts: [\n",
			want: []string{"yaml: line 1: did not find expected node content"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			var ie *InvalidError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse = %v, want an *InvalidError", err)
			}
			var got []string
			for _, p := range ie.Problems {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.want)
			}
			if want := "invalid deploy policy: " + strings.Join(tt.want, "; "); err.Error() != want {
				t.Errorf("Error():\n got %s\nwant %s", err, want)
			}
		})
	}
}

// TestParseRoundTrip: a parsed policy marshals to JSON that parses back to the same policy,
// so the types' tags and the strict reader agree on every field name.
func TestParseRoundTrip(t *testing.T) {
	full := Policy{
		Allow: Allow{
			BindMounts: []string{"/srv/a"}, WritableBindMounts: []string{"/srv/b"},
			ExternalSecrets: []string{"s"}, ExternalConfigs: []string{"c"},
			ExternalNetworks: []string{"n"}, ExternalVolumes: []string{"vv"}, PublishedPorts: []int{8080},
		},
		TrustPublishedBase: true,
		Recipes: map[string]RecipeAllow{"r": {Source: "u", Allow: Allow{
			BindMounts: []string{"/srv/c"}, WritableBindMounts: []string{"/srv/d"},
			ExternalSecrets: []string{"s2"}, ExternalConfigs: []string{"c2"},
			ExternalNetworks: []string{"n2"}, ExternalVolumes: []string{"v2"}, PublishedPorts: []int{9090},
		}}},
	}
	if got := reparse(t, full); !reflect.DeepEqual(got, full) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, full)
	}
}

// reparse marshals p to JSON and parses it back.
func reparse(tb testing.TB, p Policy) Policy {
	tb.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		tb.Fatal(err)
	}
	again, err := Parse(raw)
	if err != nil {
		tb.Fatalf("Parse(%s) of a marshalled policy: %v", raw, err)
	}
	return again
}

// FuzzParse: Parse never panics, and what it accepts is valid and survives a round trip.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"example.yaml", "example.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "policy", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("bindMounts: [/var/run]\nrecipes: {a: {source: x}}\n"))
	f.Add([]byte("publishedPorts: [80, 1e3, -1]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid policy: %v", err)
		}
		again := reparse(t, p)
		if !reflect.DeepEqual(again.Effective("a", ""), p.Effective("a", "")) || again.TrustPublishedBase != p.TrustPublishedBase {
			t.Fatalf("round trip changed the policy: %+v then %+v", p, again)
		}
	})
}
