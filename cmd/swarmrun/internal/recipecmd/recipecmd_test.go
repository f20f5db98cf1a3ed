package recipecmd

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

// shapesRoot is testdata/recipes/shapes from this package.
var shapesRoot = filepath.Join("..", "..", "..", "..", "testdata", "recipes", "shapes")

// swarmrun runs the command line args in process, with an engine address nothing answers
// on: render and lint must never contact it.
func swarmrun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	return execute(t, nil, append([]string{"--data-dir", t.TempDir()}, args...)...)
}

// execute runs swarmrun's command line in process: render, lint and the commands more
// makes, under one set of global flags.
func execute(t *testing.T, more []func(*cli.Globals) *cobra.Command, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := &cobra.Command{Use: "swarmrun", SilenceUsage: true, SilenceErrors: true}
	g := &cli.Globals{}
	g.Bind(root)
	root.AddCommand(Commands(g)...)
	for _, m := range more {
		root.AddCommand(m(g))
	}
	root.SetArgs(args)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(t.Context())
	if err != nil {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), cli.ExitCode(err)
}

// checkoutDir matches the temporary checkout a render prints file paths under.
var checkoutDir = regexp.MustCompile(`/[^\s:]*/swarmrun-render-[^/\s]*/[a-z]+`)

// chaosVersion matches a chaos-version label, which names a commit made at test time
// (quoted by YAML when its hex digits are all decimal).
var chaosVersion = regexp.MustCompile(`(chaos-version: )"?[0-9a-f]{8}"?`)

func scrub(s string) string {
	return chaosVersion.ReplaceAllString(checkoutDir.ReplaceAllString(s, "$$DIR"), "${1}COMMIT")
}

// TestRenderPlainIsDockerStackConfig: render --plain of the shapes recipe at release 1.0.0
// prints what docker 28.2.2's `docker stack config` printed for the same files and env (the
// golden of deploy/render), through the same pipeline as a run, without a daemon.
func TestRenderPlainIsDockerStackConfig(t *testing.T) {
	repo, _ := testkit.Shapes(t, shapesRoot)
	out, errOut, code := swarmrun(t, "render", repo.Dir, "--ref", "1.0.0+1.0", "--plain", "--stack", "shapes_example_com", "--domain", "shapes.example.com")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "deploy", "render", "testdata", "stackconfig", "shapes-1.0.0.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := scrub(out); got != string(want) {
		t.Errorf("render --plain differs from docker stack config:\n got:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(errOut, "# head of "+filepath.Base(repo.Dir)+" 1.0.0+1.0 as stack shapes_example_com, plain: compose.yml:compose.worker.yml:tune/compose.tune.yml") {
		t.Errorf("summary: %s", errOut)
	}
}

// runFile writes a Recipe of the shapes repository (with the probe overrides) and a TestRun
// that upgrades 1.0.0+1.0 to 2.0.0+2.0.
func runFile(t *testing.T, url string) string {
	t.Helper()
	doc := `apiVersion: swarmrun.dev/v1alpha1
kind: Recipe
metadata:
  name: shapes
spec:
  source:
    url: ` + url + `
  images:
    - {name: example.org/shapes/app, newName: swarmrun-probe}
    - {name: example.org/shapes/db, newName: swarmrun-probe}
    - {name: example.org/shapes/worker, newName: swarmrun-probe}
---
apiVersion: swarmrun.dev/v1alpha1
kind: TestRun
metadata:
  name: shapes-up
spec:
  recipe: shapes
  head: 2.0.0+2.0
  upgradeBase: 1.0.0+1.0
  images:
    - {name: swarmrun-probe, newTag: "2"}
`
	p := filepath.Join(t.TempDir(), "run.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRenderRunFile: render -f prints each deploy of a run as the pipeline prepares it: the
// base at 1.0.0 with its worker, the head at 2.0.0 without, both on the probe images (the
// Recipe's overrides, then the run's), the app env exposed, the proxy network the run's
// own, the generated secrets marked with their lengths.
func TestRenderRunFile(t *testing.T) {
	repo, _ := testkit.Shapes(t, shapesRoot)
	file := runFile(t, repo.Dir)
	for _, role := range []string{"base", "head"} {
		t.Run(role, func(t *testing.T) {
			out, errOut, code := swarmrun(t, "render", "-f", file, "--role", role)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			checkGolden(t, filepath.Join("testdata", "shapes-"+role+".golden.yml"), scrub(out))
		})
	}
	out, errOut, code := swarmrun(t, "render", "-f", file, "-o", "stack")
	if code != 0 {
		t.Fatalf("-o stack: exit %d: %s", code, errOut)
	}
	var objs struct {
		Networks map[string]any
		Secrets  map[string]struct{ Data string }
		Images   map[string]string
	}
	if err := yaml.Unmarshal([]byte(out), &objs); err != nil {
		t.Fatal(err)
	}
	const st = "shapes-up-render"
	if objs.Images[st+"_app"] != "swarmrun-probe:2" || objs.Networks[st+"_proxy"] == nil || !strings.HasPrefix(objs.Secrets[st+"_api_token_v1"].Data, "sha256:") {
		t.Errorf("-o stack: images %v, networks %v, secrets %v", objs.Images, objs.Networks, objs.Secrets)
	}
}

// TestRenderRefusals: a deploy the policy denies is not printed (exit 1); bad input exits 2.
func TestRenderRefusals(t *testing.T) {
	repo, _ := testkit.Shapes(t, shapesRoot)
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, []byte("externalNetworks: [proxy]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Joining the operator's proxy is allowed; the render keeps it external.
	out, errOut, code := swarmrun(t, "render", repo.Dir, "--ref", "2.0.0+2.0", "--policy-file", pol)
	if code != 0 || !strings.Contains(out, "  proxy:\n    name: proxy\n    external: true\n") {
		t.Errorf("with proxy allowed: exit %d, %s\n%s", code, errOut, out)
	}
	repo.Write(map[string]string{".env.sample": "COMPOSE_FILE=compose.yml\n", "compose.yml": "version: \"3.8\"\nservices:\n  app:\n    image: swarmrun-probe:1\n    volumes: [\"/var/run/docker.sock:/var/run/docker.sock\"]\n"})
	out, errOut, code = swarmrun(t, "render", repo.Dir)
	if code != 1 || out != "" || !strings.Contains(errOut, "rule docker-socket") {
		t.Errorf("denied working tree: exit %d, stdout %q, %s", code, out, errOut)
	}
	if _, errOut, code := swarmrun(t, "render", repo.Dir, "--plain"); code != 0 {
		t.Errorf("--plain judges nothing, the policy neither: exit %d, %s", code, errOut)
	}
	for _, args := range [][]string{
		{"render"},
		{"render", repo.Dir, "-o", "xml"},
		{"render", repo.Dir, "--ref", "no-such-ref"},
		{"render", "-f", runFile(t, repo.Dir), "--role", "sidecar"},
	} {
		if _, errOut, code := swarmrun(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errOut)
		}
	}
}

// TestLint: the shapes recipe passes (warnings only); a lightweight release tag fails R014,
// a critical rule, with exit 1; -o json carries every rule with abra's reference.
func TestLint(t *testing.T) {
	repo, _ := testkit.Shapes(t, shapesRoot)
	out, errOut, code := swarmrun(t, "lint", repo.Dir, "--ref", "2.0.0+2.0")
	if code != 0 || !strings.Contains(out, "R002*  warn      FAILED") || !strings.Contains(out, "R002 db: no healthcheck") {
		t.Errorf("exit %d: %s\n%s", code, errOut, out)
	}
	repo.Git("tag", "3.0.0+3")
	out, errOut, code = swarmrun(t, "lint", repo.Dir, "-o", "json")
	if code != 1 || !strings.Contains(errOut, "critical rules failed: R014") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep lintReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Passed || len(rep.Rules) != 16 || rep.Rules[13].Rule.Ref != "R014" || rep.Rules[13].Satisfied ||
		rep.Rules[13].Findings[0].Object != "tag 3.0.0+3" || !rep.Rules[1].Rule.Unverified || rep.Rules[0].Rule.Unverified {
		t.Errorf("report: %+v", rep)
	}
}

// checkGolden compares got with the golden file, or rewrites it under -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n got:\n%s", path, got)
	}
}
