package render

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/deploy/recipe"
)

// renderShapes renders the shapes recipe at version (testdata/recipes/shapes) with its own
// env, as a deploy reads it, as stack sh, under adjust.
func renderShapes(t *testing.T, version string, adjust func(*Config) error) (*Stack, error) {
	t.Helper()
	opts := shapesOptions(t, version, "sh", "sh.example.com")
	opts.Adjust = adjust
	return Render(t.Context(), opts)
}

// shapesOptions are the render options of the shapes recipe at version as a deploy of stack
// on domain reads it: its env (.env.sample, abra.sh, then STACK_NAME and DOMAIN) and the
// compose files of its COMPOSE_FILE.
func shapesOptions(t *testing.T, version, stack, domain string) Options {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "recipes", "shapes", version)
	env, err := recipe.LoadEnv(dir)
	if err != nil {
		t.Fatal(err)
	}
	vars, err := env.Resolve(map[string]string{"STACK_NAME": stack, "DOMAIN": domain})
	if err != nil {
		t.Fatal(err)
	}
	files, err := recipe.ComposeFiles(vars, dir)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Stack: stack, Dir: dir, Files: files, Env: vars}
}

// TestAdjustReachesObjectsAndPrint: what Adjust changes is what the objects are made of and
// what the configuration prints, and an Adjust error fails the render as it is.
func TestAdjustReachesObjectsAndPrint(t *testing.T) {
	st, err := renderShapes(t, "1.0.0", func(cfg *Config) error {
		for i := range cfg.Services {
			if cfg.Services[i].Name == "app" {
				cfg.Services[i].Image = "swarmrun-probe:1"
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	spec := st.Services["sh_app"]
	if st.Images["sh_app"] != "swarmrun-probe:1" || spec.TaskTemplate.ContainerSpec.Image != "swarmrun-probe:1" || spec.Labels["com.docker.stack.image"] != "swarmrun-probe:1" {
		t.Errorf("adjusted image not in the objects: Images %q, spec %q, label %q", st.Images["sh_app"],
			spec.TaskTemplate.ContainerSpec.Image, spec.Labels["com.docker.stack.image"])
	}
	printed, err := st.ComposeYAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(printed), "image: swarmrun-probe:1\n") || strings.Contains(string(printed), "example.org/shapes/app") {
		t.Errorf("printed configuration does not show the adjusted image:\n%s", printed)
	}
	if strings.Contains(string(printed), "com.docker.stack.namespace") {
		t.Errorf("the conversion's labels leaked into the printed configuration:\n%s", printed)
	}
	boom := errors.New("boom")
	if _, err := renderShapes(t, "1.0.0", func(*Config) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Adjust's error: %v", err)
	}
}

// TestSecretSourcesAndGeneratedMark: each external secret is known by its compose key and
// its name as written, and one the run provides is marked in the printed configuration
// with its length, never its value.
func TestSecretSourcesAndGeneratedMark(t *testing.T) {
	st, err := renderShapes(t, "1.0.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ObjectSource{
		"sh_api_token_v1":   {Key: "token", File: "compose.yml", Line: 66, Written: "${STACK_NAME}_api_token_${SECRET_API_TOKEN_VERSION}"},
		"sh_db_password_v1": {Key: "db_password", File: "compose.yml", Line: 69, Written: "${STACK_NAME}_db_password_${SECRET_DB_PASSWORD_VERSION:-v1}"},
	}
	if len(st.SecretSources) != len(want) {
		t.Errorf("SecretSources = %+v", st.SecretSources)
	}
	for name, w := range want {
		if got := st.SecretSources[name]; got != w {
			t.Errorf("%s: %+v, want %+v", name, got, w)
		}
	}
	if err := st.ProvideSecrets(map[string][]byte{"sh_api_token_v1": []byte("a-secret-value-of-40-characters-xxxxxxxx")}, nil); err != nil {
		t.Fatal(err)
	}
	printed, err := st.ComposeYAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(printed), "    name: sh_api_token_v1\n    external: true\n    "+GeneratedExtension+":\n      length: 40\n") ||
		strings.Contains(string(printed), "a-secret-value") || strings.Count(string(printed), GeneratedExtension) != 1 {
		t.Errorf("printed configuration:\n%s", printed)
	}
}

// TestVersionlessFileTakesTheOthersVersion: shapes 2.0.0's compose.yml has no version key
// and its overlay says "3.8": it loads, as "3.8". Two written versions that differ still
// fail, as in docker.
func TestVersionlessFileTakesTheOthersVersion(t *testing.T) {
	st, err := renderShapes(t, "2.0.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	printed, err := st.ComposeYAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(printed), "version: \"3.8\"\n") {
		t.Errorf("version: %.40q", printed)
	}
	dir := writeFiles(t, map[string]string{
		"a.yml": "version: \"3.8\"\nservices: {app: {image: swarmrun-probe:1}}\n",
		"b.yml": "version: \"3.7\"\nservices: {app: {image: swarmrun-probe:2}}\n",
	})
	if _, err := Render(t.Context(), Options{Stack: "v", Dir: dir, Files: []string{"a.yml", "b.yml"}}); err == nil || !strings.Contains(err.Error(), "version mismatched") {
		t.Errorf("written versions that differ: %v", err)
	}
}

// TestOverlayReplacesHealthcheckTest: an overlay's healthcheck test (or disable) replaces
// the recipe's, where docker's merge would append the lists; between compose files docker's
// merge stands.
func TestOverlayReplacesHealthcheckTest(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"compose.yml": `version: "3.8"
services:
  app:
    image: swarmrun-probe:1
    healthcheck: {test: ["CMD", "curl", "-f", "http://localhost:4000"], interval: 30s, retries: 10}
  db:
    image: swarmrun-probe:1
    healthcheck: {test: ["CMD-SHELL", "pg_isready"]}
`,
		"compose.more.yml": `version: "3.8"
services:
  app:
    healthcheck: {test: ["--retry", "3"]}
`,
	})
	opts := Options{Stack: "hc", Dir: dir, Files: []string{"compose.yml", "compose.more.yml"}, Overlays: [][]byte{
		[]byte(`services: {app: {healthcheck: {test: ["CMD", "/probe", "-health"], interval: 2s}}, db: {healthcheck: {disable: true}}}`),
	}}
	st, err := Render(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	app := st.Services["hc_app"].TaskTemplate.ContainerSpec.Healthcheck
	if strings.Join(app.Test, " ") != "CMD /probe -health" || app.Interval.String() != "2s" || app.Retries != 10 {
		t.Errorf("app healthcheck %+v, want the overlay's test and interval, the recipe's retries", app)
	}
	if db := st.Services["hc_db"].TaskTemplate.ContainerSpec.Healthcheck; db == nil || strings.Join(db.Test, " ") != "NONE" {
		t.Errorf("db healthcheck %+v, want disabled", db)
	}
	opts.Overlays = nil
	st, err = Render(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(st.Services["hc_app"].TaskTemplate.ContainerSpec.Healthcheck.Test, " "); got != "CMD curl -f http://localhost:4000 --retry 3" {
		t.Errorf("between compose files: test %q, want docker's appended list", got)
	}
}
