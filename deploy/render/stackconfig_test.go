package render

import (
	"bytes"
	"flag"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/docker/cli/cli/compose/loader"
	"gopkg.in/yaml.v3"
)

// dockerCLI is a docker CLI that has `docker stack config` (23.0 or later; Debian's
// docker.io 20.10 has not). Given, the test rewrites the docker-stack-config goldens with
// what it prints: `go test ./deploy/render/ -run TestComposeYAML -docker-cli /usr/local/bin/docker`.
// The committed goldens were printed by docker 28.2.2.
var dockerCLI = flag.String("docker-cli", "", "a docker CLI with `docker stack config`: rewrite the docker-stack-config goldens with its output")

// stackConfigCase is one render compared with `docker stack config`.
type stackConfigCase struct {
	name   string
	opts   Options
	golden string
}

// stackConfigCases are the golden cases of testdata/good and the shapes recipe at 1.0.0 with
// its own env (.env.sample and abra.sh, then STACK_NAME and DOMAIN), as a deploy reads it.
func stackConfigCases(t *testing.T) []stackConfigCase {
	t.Helper()
	var out []stackConfigCase
	dirs, err := filepath.Glob(filepath.Join("testdata", "good", "*", "case.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, casePath := range dirs {
		dir := filepath.Dir(casePath)
		out = append(out, stackConfigCase{name: filepath.Base(dir), opts: readCase(t, dir),
			golden: filepath.Join(dir, "docker-stack-config.yml")})
	}
	return append(out, stackConfigCase{name: "shapes-1.0.0", opts: shapesOptions(t, "1.0.0", "shapes_example_com", "shapes.example.com"),
		golden: filepath.Join("testdata", "stackconfig", "shapes-1.0.0.yml")})
}

// TestComposeYAMLIsDockerStackConfig: the configuration a render prints is what
// `docker stack config` prints for the same files under the same environment, byte for
// byte, but for env_file, which a confined render inlines into environment (the golden's
// env_file entries are dropped before comparing, and what they held is in environment in
// both).
func TestComposeYAMLIsDockerStackConfig(t *testing.T) {
	for _, c := range stackConfigCases(t) {
		t.Run(c.name, func(t *testing.T) {
			dir, err := filepath.Abs(c.opts.Dir)
			if err != nil {
				t.Fatal(err)
			}
			if *dockerCLI != "" {
				writeDockerGolden(t, c, dir)
			}
			st, err := Render(t.Context(), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := st.ComposeYAML()
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(c.golden)
			if err != nil {
				t.Fatalf("%v (run with -docker-cli to create it)", err)
			}
			want = withoutEnvFile(bytes.ReplaceAll(want, []byte("$DIR"), []byte(dir)))
			if !bytes.Equal(got, want) {
				t.Errorf("differs from docker stack config (%s):\n%s", c.golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// envFileBlock is a service's env_file list in `docker stack config` output.
var envFileBlock = regexp.MustCompile(`(?m)^    env_file:\n(?:      - .*\n)+`)

func withoutEnvFile(b []byte) []byte { return envFileBlock.ReplaceAll(b, nil) }

// writeDockerGolden runs `docker stack config` over the case's files and overlays (written
// to files, with the first file's version, since docker reads files only) with exactly the
// case's environment, and writes its output with the directory scrubbed to "$DIR".
func writeDockerGolden(t *testing.T, c stackConfigCase, dir string) {
	t.Helper()
	args := []string{"stack", "config"}
	for _, f := range c.opts.Files {
		args = append(args, "-c", filepath.Join(dir, f))
	}
	tmp := t.TempDir()
	for i, o := range c.opts.Overlays {
		p := filepath.Join(tmp, "overlay"+string(rune('0'+i))+".yml")
		doc, err := loader.ParseYAML(o)
		if err != nil {
			t.Fatal(err)
		}
		doc[versionKey] = "3.8"
		b, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-c", p)
	}
	cmd := exec.Command(*dockerCLI, args...)
	cmd.Dir = dir
	cmd.Env = []string{"DOCKER_HOST=unix:///nonexistent.sock", "HOME=" + tmp}
	for _, k := range slices.Sorted(maps.Keys(c.opts.Env)) {
		cmd.Env = append(cmd.Env, k+"="+c.opts.Env[k])
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	if err := os.MkdirAll(filepath.Dir(c.golden), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.golden, bytes.ReplaceAll(out, []byte(dir), []byte("$DIR")), 0o644); err != nil {
		t.Fatal(err)
	}
}
