package render

import (
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

// renderString renders one compose document with the given files beside it.
func renderString(t *testing.T, compose string, files map[string]string, env map[string]string) *Stack {
	t.Helper()
	all := map[string]string{"compose.yml": compose}
	for name, content := range files {
		all[name] = content
	}
	st, err := Render(t.Context(), Options{Stack: testStack, Dir: writeFiles(t, all), Files: []string{"compose.yml"}, Env: env})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return st
}

const digestCompose = `version: "3.8"
services:
  app:
    image: swarmrun-probe:${TAG}
    secrets: [token]
    networks: [a, b, c]
    environment: {A: "1", B: "2", C: "3"}
  db:
    image: swarmrun-probe:1
networks: {a: {}, b: {}, c: {}}
secrets:
  token:
    file: token.txt
`

func TestDigest(t *testing.T) {
	base := renderString(t, digestCompose, map[string]string{"token.txt": "one"}, map[string]string{"TAG": "1"})
	if !strings.HasPrefix(base.Digest, "sha256:") || len(base.Digest) != len("sha256:")+64 {
		t.Fatalf("digest %q is not a sha256 digest", base.Digest)
	}
	tests := []struct {
		name  string
		token string
		env   map[string]string
		same  bool
	}{
		{"equal inputs", "one", map[string]string{"TAG": "1"}, true},
		{"unused variable", "one", map[string]string{"TAG": "1", "UNUSED": "x"}, true},
		{"other image", "one", map[string]string{"TAG": "2"}, false},
		{"other secret data", "two", map[string]string{"TAG": "1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Several renders, so that map iteration order gets a chance to differ.
			for range 5 {
				st := renderString(t, digestCompose, map[string]string{"token.txt": tt.token}, tt.env)
				if same := st.Digest == base.Digest; same != tt.same {
					t.Fatalf("digest %s vs %s: same = %v, want %v", st.Digest, base.Digest, same, tt.same)
				}
			}
		})
	}
}

func TestServiceDigest(t *testing.T) {
	st := renderString(t, digestCompose, map[string]string{"token.txt": "one"}, map[string]string{"TAG": "1"})
	spec := st.Services["test_app"]
	relabelled := spec
	relabelled.Labels = map[string]string{"other": "label"}
	rescaled := spec
	rescaled.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}

	tests := []struct {
		name string
		a, b swarm.ServiceSpec
		same bool
	}{
		{"same spec", spec, st.Services["test_app"], true},
		{"same spec rendered again", spec, renderString(t, digestCompose, map[string]string{"token.txt": "one"}, map[string]string{"TAG": "1"}).Services["test_app"], true},
		{"other service", spec, st.Services["test_db"], false},
		{"other labels", spec, relabelled, false},
		{"other mode", spec, rescaled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := ServiceDigest(tt.a), ServiceDigest(tt.b)
			if (a == b) != tt.same {
				t.Errorf("ServiceDigest: %s vs %s, same = %v, want %v", a, b, a == b, tt.same)
			}
		})
	}
}

func TestDigestIgnoresDocumentOrder(t *testing.T) {
	// The same stack written in another order: keys, services, lists that compose treats
	// as sets.
	reordered := `secrets:
  token:
    file: token.txt
networks: {c: {}, b: {}, a: {}}
services:
  db:
    image: swarmrun-probe:1
  app:
    environment: {C: "3", A: "1", B: "2"}
    networks: [c, a, b]
    secrets: [token]
    image: swarmrun-probe:${TAG}
version: "3.8"
`
	files := map[string]string{"token.txt": "one"}
	env := map[string]string{"TAG": "1"}
	a := renderString(t, digestCompose, files, env)
	b := renderString(t, reordered, files, env)
	if a.Digest != b.Digest {
		t.Errorf("digest changed with the document's order: %s vs %s", a.Digest, b.Digest)
	}
}
