package stack

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/policy"
	"github.com/swarmrun/swarmrun/internal/testkit"
)

func TestOverrideImage(t *testing.T) {
	recipe := []v1alpha1.ImageOverride{
		{Name: "bonfirenetworks/bonfire", NewName: "swarmrun-probe", NewTag: "1"},
		{Name: "postgres", NewTag: "16"},
		{Name: "ghcr.io/baosystems/postgis", Digest: "sha256:" + strings.Repeat("ab", 32)},
		{Name: "example.org/keep", NewName: "registry.local/keep"},
	}
	run := []v1alpha1.ImageOverride{{Name: "swarmrun-probe", NewTag: "2"}}
	tests := []struct {
		image string
		lists [][]v1alpha1.ImageOverride
		want  string
	}{
		{"bonfirenetworks/bonfire:1.0.6-social-amd64", [][]v1alpha1.ImageOverride{recipe}, "swarmrun-probe:1"},
		// The run's overrides see what the Recipe's made.
		{"bonfirenetworks/bonfire:1.0.6-social-amd64", [][]v1alpha1.ImageOverride{recipe, run}, "swarmrun-probe:2"},
		{"postgres:13", [][]v1alpha1.ImageOverride{recipe}, "postgres:16"},
		{"docker.io/library/postgres@sha256:" + strings.Repeat("cd", 32), [][]v1alpha1.ImageOverride{recipe}, "docker.io/library/postgres:16"},
		{"ghcr.io/baosystems/postgis:17-3.5", [][]v1alpha1.ImageOverride{recipe}, "ghcr.io/baosystems/postgis@sha256:" + strings.Repeat("ab", 32)},
		{"example.org/keep:3@sha256:" + strings.Repeat("ef", 32), [][]v1alpha1.ImageOverride{recipe}, "registry.local/keep:3@sha256:" + strings.Repeat("ef", 32)},
		{"example.org/keep", [][]v1alpha1.ImageOverride{recipe}, "registry.local/keep"},
		{"postgresql:13", [][]v1alpha1.ImageOverride{recipe}, "postgresql:13"},
		{"mariadb", nil, "mariadb"},
	}
	for _, tt := range tests {
		got, err := overrideImage(tt.image, tt.lists)
		if err != nil || got != tt.want {
			t.Errorf("overrideImage(%s) = %q, %v; want %q", tt.image, got, err, tt.want)
		}
	}
	if _, err := overrideImage("Not A Reference", [][]v1alpha1.ImageOverride{recipe}); err == nil {
		t.Error("a malformed image passed")
	}
}

// prepareShapes prepares a deploy of the shapes recipe at release index i (0: 1.0.0,
// 1: 2.0.0) on the fake engine, as the head of a run with the probe overrides.
func prepareShapes(t *testing.T, pol policy.Policy, i int, images ...[]v1alpha1.ImageOverride) *Prepared {
	t.Helper()
	repo, commits := testkit.Shapes(t, filepath.Join("..", "..", "testdata", "recipes", "shapes"))
	pr, _, err := prepareRepo(t, pol, repo.Dir, "", Request{Stack: "sh", Commit: commits[i], SecretSeed: "seed", Images: images})
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// TestPrepareFollowsAbrasConventions: the shapes recipe at 1.0.0 deploys the files its
// line-by-line COMPOSE_FILE lists (an overlay in a subdirectory among them), names its
// config after abra.sh's version, exposes the app env to the app service (what the
// greeting template reads), generates the token under its interpolated name with the
// length its version variable's hint gives, creates its external proxy network as the
// stack's own, and runs the images the overrides give.
func TestPrepareFollowsAbrasConventions(t *testing.T) {
	pr := prepareShapes(t, policy.Default(), 0, testkit.ShapesOnProbe())
	if want := []string{"compose.yml", "compose.worker.yml", "tune/compose.tune.yml"}; !slices.Equal(pr.Files, want) {
		t.Errorf("files %v, want %v", pr.Files, want)
	}
	if got := pr.ServiceNames(); !slices.Equal(got, []string{"sh_app", "sh_db", "sh_worker"}) {
		t.Errorf("services %v", got)
	}
	st := pr.render
	if _, ok := st.Configs["sh_greeting_v2"]; !ok {
		t.Errorf("configs %v, want sh_greeting_v2 (abra.sh's GREETING_CONF_VERSION over the default v1)", keys(st.Configs))
	}
	if c := st.Configs["sh_greeting_v2"]; c.Templating == nil || c.Templating.Name != "golang" {
		t.Errorf("greeting config templating %+v, want the engine's golang driver", c.Templating)
	}
	env := st.Services["sh_app"].TaskTemplate.ContainerSpec.Env
	for _, want := range []string{"GREETING=hello from sh.swarmrun.localhost", "TYPE=shapes", "DB_HOST=db", "DOMAIN=sh.swarmrun.localhost", "STACK_NAME=sh"} {
		if !slices.Contains(env, want) {
			t.Errorf("app env lacks %s: %v", want, env)
		}
	}
	if env := st.Services["sh_db"].TaskTemplate.ContainerSpec.Env; slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, "GREETING=") }) {
		t.Errorf("the app env reached db: %v", env)
	}
	if n := len(st.Secrets["sh_api_token_v1"].Data); n != 40 {
		t.Errorf("token: %d characters, want 40 (SECRET_API_TOKEN_VERSION's hint)", n)
	}
	if n := len(st.Secrets["sh_db_password_v1"].Data); n != 24 {
		t.Errorf("db_password: %d characters, want 24", n)
	}
	if len(st.ExternalNetworks) != 0 || st.Networks["sh_proxy"].Driver != "overlay" || pr.OwnNetworks["sh_proxy"] != "proxy" {
		t.Errorf("external %v, networks %v, own %v; want proxy made the stack's sh_proxy", st.ExternalNetworks, keys(st.Networks), pr.OwnNetworks)
	}
	for name, want := range map[string][2]string{
		"sh_app":    {"swarmrun-probe:1", "example.org/shapes/app:1"},
		"sh_db":     {"swarmrun-probe:1", "example.org/shapes/db:1"},
		"sh_worker": {"swarmrun-probe:1", "example.org/shapes/worker:1"},
	} {
		if s := pr.Services[name]; s.Image != want[0] || s.ComposeImage != want[1] {
			t.Errorf("%s: image %q (compose %q), want %q (compose %q)", name, s.Image, s.ComposeImage, want[0], want[1])
		}
	}
	records := imageRecords(pr, nil)
	if len(records) != 3 || records[0].Image != "swarmrun-probe:1" || records[0].Compose != "example.org/shapes/app:1" {
		t.Errorf("image records %+v", records)
	}
	printed, err := pr.render.ComposeYAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  proxy:\n    driver: overlay\n    " + StandsInForExtension + ": proxy\n", "image: swarmrun-probe:1\n", "      GREETING: hello from sh.swarmrun.localhost\n"} {
		if !strings.Contains(string(printed), want) {
			t.Errorf("printed configuration lacks %q:\n%s", want, printed)
		}
	}
}

// TestPrepareJoinsAnAllowedProxy: a policy that lets recipes join the operator's proxy
// network keeps it external, to be joined.
func TestPrepareJoinsAnAllowedProxy(t *testing.T) {
	pol, err := policy.Parse([]byte("externalNetworks: [proxy]\n"))
	if err != nil {
		t.Fatal(err)
	}
	pr := prepareShapes(t, pol, 1)
	if !slices.Equal(pr.render.ExternalNetworks, []string{"proxy"}) || len(pr.OwnNetworks) != 0 {
		t.Errorf("external %v, own %v; want proxy joined", pr.render.ExternalNetworks, pr.OwnNetworks)
	}
	if got := pr.ServiceNames(); !slices.Equal(got, []string{"sh_app", "sh_db"}) {
		t.Errorf("2.0.0 services %v, want the worker dropped", got)
	}
	if s := pr.Services["sh_app"]; s.Image != "example.org/shapes/app:2" || s.ComposeImage != "" {
		t.Errorf("without overrides: %+v", s)
	}
}

func keys[V any](m map[string]V) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
}
