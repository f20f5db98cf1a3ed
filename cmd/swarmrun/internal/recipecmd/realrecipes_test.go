//go:build realrecipes

// The real-recipes suite: swarmrun render, lint and run over real Co-op Cloud recipe
// repositories, which cannot be committed here. It reads git bundles (<name>.bundle) from
// the directory $SWARMRUN_REAL_RECIPES and fails, never skips, when that is unset:
//
//	make real-recipes RECIPES=/work/recipes
//
// Rendering compares `swarmrun render --plain` with `docker stack config` (a docker CLI of
// 23.0 or later: $SWARMRUN_DOCKER_CLI, /usr/local/bin/docker or docker on PATH; Debian's
// docker.io 20.10 lacks the command). The end-to-end runs need the swarm and the probe
// images (make images).
package recipecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/runcmd"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
	"github.com/swarmrun/swarmrun/reconcile/results"
)

// realRecipe is a bundle of /work/recipes and the refs rendered and linted: releases where
// the repository has them, commits otherwise.
type realRecipe struct {
	name string
	refs []string
	// denied maps a ref ("*": every ref) to the deploy policy rule that refuses its deploy
	// under the default policy: its full render must fail on that rule, and is then not
	// printed. The plain render is still compared with docker's.
	denied map[string]string
	// lintFails are the critical rules expected to fail at every ref.
	lintFails []string
}

var realRecipes = []realRecipe{
	{name: "bonfire", refs: []string{"1.0.0+1.0.5-social-amd64", "2.0.0+1.0.5-social-amd64", "2.0.1+1.0.6-social-amd64"}},
	// A lightweight v-prefixed release tag and the master branch (no main).
	// The reverse proxy mounts the Docker socket, which no policy allows.
	{name: "traefik", refs: []string{"v2.4.8", "master"}, denied: map[string]string{"*": "docker-socket"}, lintFails: []string{"R014"}},
	// No tags: the WordPress recipe's history (backupbot dropped at 6bf1a10, services
	// renamed at 50a1170), and its LEMP successor. 6ed9626's backupbot uses a secret and a
	// config named outside the stack's namespace (backup_bot_ssh_key_v1, borgmatic_config_yml_v6).
	{name: "lemp-wordpress", refs: []string{"6ed9626", "6bf1a10", "50a1170", "9fa2b2d", "0b36204"},
		denied: map[string]string{"6ed9626": "external-secret"}},
	{name: "foodsharing-cms", refs: []string{"v1.0.2", "v1.0.3"}},
	// 8be9c3f declares a bridge network, which a swarm service cannot join (fixed in 00e5c2e).
	{name: "gaseous", refs: []string{"8be9c3f", "ed2ec70"}, denied: map[string]string{"8be9c3f": "network-driver"}},
	// The app publishes port 5017 on every node.
	{name: "agora", refs: []string{"70e756d", "db5b3de"}, denied: map[string]string{"*": "published-port"}},
	{name: "go-ssb-room", refs: []string{"9a7df0a", "c3f559b"}},
}

// bundleDir is $SWARMRUN_REAL_RECIPES; the suite fails without it.
func bundleDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SWARMRUN_REAL_RECIPES")
	if dir == "" {
		t.Fatal("SWARMRUN_REAL_RECIPES is unset: it names the directory of the recipe bundles (make real-recipes RECIPES=/work/recipes)")
	}
	return dir
}

var (
	cloneMu sync.Mutex
	clones  = map[string]string{}
)

// clone clones <bundles>/<name>.bundle once per test binary, into a directory removed at
// its end, and returns the clone.
func clone(t *testing.T, name string) string {
	t.Helper()
	cloneMu.Lock()
	defer cloneMu.Unlock()
	if dir, ok := clones[name]; ok {
		return dir
	}
	bundle := filepath.Join(bundleDir(t), name+".bundle")
	if _, err := os.Stat(bundle); err != nil {
		t.Fatalf("recipe bundle: %v", err)
	}
	dir := filepath.Join(cloneRoot, name)
	if out, err := exec.Command("git", "clone", "--quiet", bundle, dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone %s: %v\n%s", bundle, err, out)
	}
	clones[name] = dir
	return dir
}

// cloneRoot holds the clones; TestMain removes it.
var cloneRoot string

func TestMain(m *testing.M) {
	var err error
	if cloneRoot, err = os.MkdirTemp("", "swarmrun-real-recipes-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(cloneRoot)
	os.Exit(code)
}

// dockerStackConfig finds a docker CLI that has `docker stack config`.
func dockerStackConfig(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("SWARMRUN_DOCKER_CLI"), "/usr/local/bin/docker", "docker"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		out, _ := exec.Command(c, "stack", "config", "--help").CombinedOutput()
		if strings.Contains(string(out), "Outputs the final config file") {
			return c
		}
	}
	t.Fatalf("no docker CLI with `docker stack config` (23.0 or later) among %v: set SWARMRUN_DOCKER_CLI", candidates)
	return ""
}

// envFileBlock is a service's env_file list in `docker stack config` output; a render
// inlines env files into environment.
var envFileBlock = regexp.MustCompile(`(?m)^    env_file:\n(?:      - .*\n)+`)

// TestRealRecipesRender renders each recipe at each ref as a run's head would deploy it,
// and plain, and compares the plain render with `docker stack config` over the same files
// under the same env (exported, since docker reads the process environment only).
func TestRealRecipesRender(t *testing.T) {
	docker := dockerStackConfig(t)
	var summary []string
	for _, rr := range realRecipes {
		for _, ref := range rr.refs {
			t.Run(rr.name+"@"+ref, func(t *testing.T) {
				dir := clone(t, rr.name)
				stackName := strings.ReplaceAll(rr.name, "-", "_") + "_example_com"
				domain := rr.name + ".example.com"

				// The head's deploy, through the command line.
				start := time.Now()
				out, errOut, code := swarmrun(t, "render", dir, "--ref", ref, "--stack", stackName, "--domain", domain)
				full := time.Since(start)
				denied := cmpOr(rr.denied[ref], rr.denied["*"])
				switch {
				case denied != "":
					if code != 1 || out != "" || !strings.Contains(errOut, "(rule "+denied+")") {
						t.Errorf("render: exit %d, want 1 denied by rule %s: %s", code, denied, errOut)
					}
				case code != 0 || !strings.HasPrefix(out, "version: "):
					t.Errorf("render: exit %d: %s", code, errOut)
				}

				// Plain, through the same session and pipeline as `render --plain`, for the env.
				s, cleanup, err := newSession(&cli.Globals{}, "")
				if err != nil {
					t.Fatal(err)
				}
				defer cleanup()
				req, err := s.dirRequest(t.Context(), dir, dirFlags{ref: ref, stack: stackName, domain: domain})
				if err != nil {
					t.Fatal(err)
				}
				start = time.Now()
				pl, err := s.p.Plain(t.Context(), req)
				if err != nil {
					t.Fatalf("plain render: %v", err)
				}
				got, err := pl.ComposeYAML()
				if err != nil {
					t.Fatal(err)
				}
				plain := time.Since(start)
				start = time.Now()
				want, dockerErr := runDockerStackConfig(docker, pl)
				dockerTook := time.Since(start)
				verdict := "equal"
				switch {
				case dockerErr != nil:
					verdict = "docker cannot render: " + firstLine(dockerErr.Error())
					t.Errorf("docker stack config failed where swarmrun rendered: %v", dockerErr)
				case !bytes.Equal(got, envFileBlock.ReplaceAll(want, nil)):
					verdict = "DIFFERENT"
					t.Errorf("render --plain differs from docker stack config:\n%s", diffLines(string(envFileBlock.ReplaceAll(want, nil)), string(got)))
				}
				line := fmt.Sprintf("render %-16s %-26s files %-48s services %d  full %-7s plain %-7s docker %-7s %s", rr.name, ref,
					strings.Join(pl.Files, ":"), countServices(got), round(full), round(plain), round(dockerTook), verdict)
				if denied != "" {
					line += "; full render denied (rule " + denied + ")"
				}
				t.Log(line)
				summary = append(summary, line)
			})
		}
	}
	t.Log("summary:\n" + strings.Join(summary, "\n"))
}

// countServices counts the services of a printed configuration.
func countServices(yaml []byte) int {
	n, in := 0, false
	for _, l := range strings.Split(string(yaml), "\n") {
		switch {
		case l == "services:":
			in = true
		case in && len(l) > 2 && l[0] == ' ' && l[1] == ' ' && l[2] != ' ':
			n++
		case in && l != "" && l[0] != ' ':
			in = false
		}
	}
	return n
}

// runDockerStackConfig prints what docker stack config prints for the plain render's
// files under exactly its env.
func runDockerStackConfig(docker string, pl *stack.Plain) ([]byte, error) {
	args := []string{"stack", "config"}
	for _, f := range pl.Files {
		args = append(args, "-c", filepath.Join(pl.Dir, f))
	}
	cmd := exec.Command(docker, args...)
	cmd.Dir = pl.Dir
	cmd.Env = []string{"DOCKER_HOST=unix:///nonexistent/docker.sock", "HOME=" + pl.Dir}
	env := pl.Env()
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range env {
			if !yield(k) {
				return
			}
		}
	}) {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// TestRealRecipesLint lints each recipe at each ref through the command line (-o json).
func TestRealRecipesLint(t *testing.T) {
	var summary []string
	for _, rr := range realRecipes {
		for _, ref := range rr.refs {
			t.Run(rr.name+"@"+ref, func(t *testing.T) {
				dir := clone(t, rr.name)
				start := time.Now()
				out, errOut, code := swarmrun(t, "lint", dir, "--ref", ref, "-o", "json")
				took := time.Since(start)
				if code != 0 && code != 1 {
					t.Fatalf("lint: exit %d: %s", code, errOut)
				}
				var rep lintReport
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Fatalf("lint -o json: %v\n%s", err, out)
				}
				var critical, warn, skipped []string
				for _, r := range rep.Rules {
					switch {
					case r.Skipped != "":
						skipped = append(skipped, r.Rule.Ref)
					case !r.Satisfied && r.Rule.Level == stack.LintError:
						critical = append(critical, r.Rule.Ref)
					case !r.Satisfied:
						warn = append(warn, r.Rule.Ref)
					}
				}
				if (code == 1) != (len(critical) > 0) || rep.Passed != (len(critical) == 0) {
					t.Errorf("exit %d, passed %t, critical %v", code, rep.Passed, critical)
				}
				for _, want := range rr.lintFails {
					if !slices.Contains(critical, want) {
						t.Errorf("critical failures %v, want %s among them", critical, want)
					}
				}
				line := fmt.Sprintf("lint   %-16s %-26s exit %d  critical %-20s warn %-34s skipped %-14s %s", rr.name, ref, code,
					strings.Join(critical, ","), strings.Join(warn, ","), strings.Join(skipped, ","), round(took))
				t.Log(line)
				summary = append(summary, line)
			})
		}
	}
	t.Log("summary:\n" + strings.Join(summary, "\n"))
}

// e2eCase is a run of a real recipe on the swarm, on the probe images.
type e2eCase struct {
	name, recipe string
	// spec is a Recipe (named after the case) and a TestRun (named after the case too);
	// @URL@ stands for the recipe's clone.
	spec string
	// pruned are the compose names of the services the head must have pruned.
	pruned []string
	level  int
}

// The probe image (FROM scratch, one static binary at /probe: an HTTP server on :8080 that
// keeps data under -data, default /data) cannot run the recipes' entrypoints, commands or
// shell healthchecks. Each case's overlays say what they replace and why; the image
// overrides put the probe in place of every image, which no registry could give here.
var e2eCases = []e2eCase{
	{
		// bonfire 1.0.0 deployed with the meilisearch overlay its .env.sample offered (a
		// base-only env: previous), upgraded to 2.0.1, which removed the overlay: the search
		// service is dropped and must be pruned. The db's data, written before the upgrade
		// into its volume, must be there after it.
		name: "bonfire-meili", recipe: "bonfire", pruned: []string{"search"}, level: 2,
		spec: `apiVersion: swarmrun.dev/v1alpha1
kind: Recipe
metadata:
  name: bonfire-meili
spec:
  source:
    url: @URL@
  images:
    - {name: bonfirenetworks/bonfire, newName: swarmrun-probe, newTag: "2"}
    - {name: ghcr.io/baosystems/postgis, newName: swarmrun-probe, newTag: "1"}
    - {name: getmeili/meilisearch, newName: swarmrun-probe, newTag: "1"}
  overlays:
    # app: the entrypoint is a templated shell script starting the BEAM release, the
    # healthcheck curls port 4000; db: the command is postgres's, the healthcheck a shell
    # pg_isready. The probe serves :8080 and answers /probe -health; the db keeps its data
    # in the recipe's db-data volume.
    - services:
        app:
          entrypoint: ["/probe"]
          healthcheck: {test: ["CMD", "/probe", "-health"], interval: 2s, timeout: 2s, retries: 5}
        db:
          command: ["-data", "/var/lib/postgresql/data"]
          healthcheck: {test: ["CMD", "/probe", "-health"], interval: 2s, timeout: 2s, retries: 5}
  previous:
    version: 1.0.0+1.0.5-social-amd64
    env:
      COMPOSE_FILE: compose.yml:compose.postgres.yml:compose.meilisearch.yml
    overlays:
      # search: tini and meilisearch's entrypoint script are not in the probe.
      - services:
          search:
            entrypoint: ["/probe"]
  checks:
    install:
      - {name: app, http: {service: app, port: 8080, path: /healthz}}
      - {name: search, http: {service: search, port: 8080, path: /healthz}}
    upgrade:
      before:
        - {name: write, http: {service: db, port: 8080, path: /data/kept, method: PUT, body: written-by-1.0.0, expectStatus: 204}}
      after:
        - {name: read, http: {service: db, port: 8080, path: /data/kept, contains: written-by-1.0.0}}
        - {name: app, http: {service: app, port: 8080, path: /healthz}}
---
apiVersion: swarmrun.dev/v1alpha1
kind: TestRun
metadata:
  name: bonfire-meili
spec:
  recipe: bonfire-meili
  head: 2.0.1+1.0.6-social-amd64
  upgradeBase: 1.0.0+1.0.5-social-amd64
  stages: [install, upgrade]
  timeout: 10m
`,
	},
	{
		// The WordPress recipe at 6bf1a10 (services wordpress, mariadb) upgraded to 50a1170
		// ("Use generic naming": app, db): both old services are pruned, the renamed ones
		// run. The secret versions live in .envrc.sample, which abra (and swarmrun) never
		// read: the operator gives them. The probe runs both services as they are written.
		name: "wordpress-rename", recipe: "lemp-wordpress", pruned: []string{"mariadb", "wordpress"}, level: 2,
		spec: `apiVersion: swarmrun.dev/v1alpha1
kind: Recipe
metadata:
  name: wordpress-rename
spec:
  source:
    url: @URL@
  env:
    DB_ROOT_PASSWORD_VERSION: v1
    DB_PASSWORD_VERSION: v1
  images:
    - {name: wordpress, newName: swarmrun-probe, newTag: "1"}
    - {name: mariadb, newName: swarmrun-probe, newTag: "2"}
  checks:
    install:
      - {name: wordpress, http: {service: wordpress, port: 8080, path: /healthz}}
    upgrade:
      after:
        - {name: app, http: {service: app, port: 8080, path: /healthz}}
        - {name: db, http: {service: db, port: 8080, path: /version, contains: "2"}}
---
apiVersion: swarmrun.dev/v1alpha1
kind: TestRun
metadata:
  name: wordpress-rename
spec:
  recipe: wordpress-rename
  head: 50a1170
  upgradeBase: 6bf1a10
  stages: [install, upgrade]
  timeout: 10m
`,
	},
	{
		// foodsharing-cms v1.0.2 to v1.0.3 (v-prefixed annotated tags): the app keeps its
		// content in the cms_data volume at /data, where the probe keeps its data too.
		name: "foodsharing", recipe: "foodsharing-cms", level: 2,
		spec: `apiVersion: swarmrun.dev/v1alpha1
kind: Recipe
metadata:
  name: foodsharing
spec:
  source:
    url: @URL@
  images:
    - {name: ghcr.io/wilhelmberggren/foodsharing-cms, newName: swarmrun-probe, newTag: "2"}
  overlays:
    # The healthcheck wgets the app's port 8787; the probe has no wget and serves :8080.
    - services:
        app:
          healthcheck: {test: ["CMD", "/probe", "-health"], interval: 2s, timeout: 2s, retries: 5}
  checks:
    upgrade:
      before:
        - {name: write, http: {service: app, port: 8080, path: /data/page, method: PUT, body: written-by-v1.0.2, expectStatus: 204}}
      after:
        - {name: read, http: {service: app, port: 8080, path: /data/page, contains: written-by-v1.0.2}}
---
apiVersion: swarmrun.dev/v1alpha1
kind: TestRun
metadata:
  name: foodsharing
spec:
  recipe: foodsharing
  head: v1.0.3
  upgradeBase: v1.0.2
  stages: [install, upgrade]
  timeout: 10m
`,
	},
}

// TestRealRecipesEndToEnd runs each case with `swarmrun run` on the real swarm and checks
// the verdict, the pruned services, the verification and the level in results.json.
func TestRealRecipesEndToEnd(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, "swarmrun-probe:1", "swarmrun-probe:2")
	var summary []string
	for _, tc := range e2eCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := clone(t, tc.recipe)
			file := filepath.Join(t.TempDir(), "run.yaml")
			if err := os.WriteFile(file, []byte(strings.ReplaceAll(tc.spec, "@URL@", dir)), 0o644); err != nil {
				t.Fatal(err)
			}
			dataDir := t.TempDir()
			start := time.Now()
			out, errOut, code := execute(t, []func(*cli.Globals) *cobra.Command{runcmd.Command}, "--data-dir", dataDir, "run", "--ephemeral", "-f", file)
			took := time.Since(start)
			res := readResults(t, dataDir, tc.name)
			if res.Stack != "" {
				t.Cleanup(func() {
					// The test's context is done by now: the removal gets its own bound.
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
					defer cancel()
					if err := swarmtest.RemoveStack(ctx, c, res.Stack, true); err != nil {
						t.Errorf("remove stack %s: %v", res.Stack, err)
					}
				})
			}
			if code != 0 || res.Succeeded != "True" {
				t.Fatalf("swarmrun run: exit %d, %s %s: %s\n%s\n%s", code, res.Succeeded, res.Reason, res.Message, out, errOut)
			}
			var want []string
			for _, s := range tc.pruned {
				want = append(want, res.Stack+"_"+s)
			}
			if !slices.Equal(res.Pruned, want) {
				t.Errorf("pruned %v, want %v", res.Pruned, want)
			}
			verified := slices.ContainsFunc(res.Conditions, func(c v1alpha1.Condition) bool {
				return c.Type == v1alpha1.ConditionVerified && c.Status == v1alpha1.ConditionTrue
			})
			if !verified || res.Level != tc.level {
				t.Errorf("verified %t, level %d; want true, %d", verified, res.Level, tc.level)
			}
			line := fmt.Sprintf("e2e    %-16s %-40s %s; base %s -> head %s; pruned %v; level %d/%d; converge base %s head %s; run %s",
				tc.name, res.Reason, res.Succeeded, baseName(res), res.Head.Ref, res.Pruned, res.Level, res.MaxLevel,
				res.Timings.Converge["base"].Duration.Round(100*time.Millisecond), res.Timings.Converge["head"].Duration.Round(100*time.Millisecond), round(took))
			for _, d := range res.Deploys {
				var imgs []string
				for _, i := range d.Images {
					imgs = append(imgs, strings.TrimPrefix(i.Service, res.Stack+"_")+"="+i.Image+" (was "+i.Compose+")")
				}
				line += fmt.Sprintf("\n         %s: files %s; %s", d.Role, strings.Join(d.ComposeFiles, ":"), strings.Join(imgs, ", "))
			}
			t.Log(line)
			summary = append(summary, line)
		})
	}
	t.Log("summary:\n" + strings.Join(summary, "\n"))
}

func readResults(t *testing.T, dataDir, name string) results.Result {
	t.Helper()
	var r results.Result
	b, err := os.ReadFile(filepath.Join(results.Dir(dataDir, name), results.JSONFile))
	if err != nil {
		t.Fatalf("results: %v", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func baseName(r results.Result) string {
	if r.Base == nil {
		return "none"
	}
	if r.Base.Version != "" {
		return r.Base.Version
	}
	return r.Base.Ref
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// diffLines shows the first lines where want and got differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  docker:   %s\n  swarmrun: %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}
