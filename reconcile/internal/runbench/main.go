package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/internal/testkit"
)

func main() {
	bin := flag.String("swarmrun", "bin/swarmrun", "swarmrun binary")
	timeout := flag.Duration("timeout", 5*time.Minute, "bound of each run, and of the warm stack's readiness")
	flag.Parse()
	if err := run(*bin, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "runbench:", err)
		os.Exit(1)
	}
}

// bench is one benchmark's data dir, recipe and server.
type bench struct {
	bin, dataDir, recipe string
	timeout              time.Duration
}

func run(bin string, timeout time.Duration) error {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "runbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	b := &bench{bin: abs, dataDir: filepath.Join(dir, "data"), recipe: "bench" + hex.EncodeToString(suffix), timeout: timeout}
	repo, err := makeRepo(filepath.Join(dir, "recipe"))
	if err != nil {
		return fmt.Errorf("recipe repository: %w", err)
	}
	stop, err := b.serve()
	if err != nil {
		return err
	}
	defer func() {
		b.cleanup()
		stop()
	}()

	fmt.Printf("recipe %s (probe images, one volume, a generated secret): release 0.1.0+1, head pr (0.2.0+2)\n", b.recipe)
	if err := b.apply(recipeYAML(b.recipe, repo)); err != nil {
		return err
	}
	promote := b.recipe + "-promote"
	if err := b.apply(testRunYAML(promote, b.recipe, "0.1.0+1", "", "[install]")); err != nil {
		return err
	}
	if _, err := b.wait("testrun", promote, "Succeeded"); err != nil {
		return fmt.Errorf("the promoting run: %w", err)
	}
	start := time.Now()
	if _, err := b.wait("recipe", b.recipe, "WarmReady"); err != nil {
		return fmt.Errorf("warm stack: %w", err)
	}
	fmt.Printf("warm-%s ready at 0.1.0+1 %s after the promoting run's verdict\n\n", b.recipe, time.Since(start).Round(time.Millisecond))

	var rows []row
	for _, r := range []struct{ name, base string }{{"cold", ""}, {"warm", "warm"}} {
		name := b.recipe + "-" + r.name
		start := time.Now()
		if err := b.apply(testRunYAML(name, b.recipe, "pr", r.base, "")); err != nil {
			return err
		}
		tr, err := b.wait("testrun", name, "Succeeded")
		if err != nil {
			return fmt.Errorf("%s run: %w", r.name, err)
		}
		rows = append(rows, describe(r.name, time.Since(start), tr))
	}
	printRows(rows)
	return nil
}

// row is one timed run.
type row struct {
	name, base, verdict     string
	wall, baseReady, head   time.Duration
	baseDeploy, warmCopy    string
	level                   int
	checksRun, checksNotRun int
}

func describe(name string, wall time.Duration, tr *v1alpha1.TestRun) row {
	r := row{name: name, wall: wall, level: tr.Status.Level, baseDeploy: "-", warmCopy: "-"}
	if b := tr.Status.Base; b != nil {
		r.base = string(b.Kind) + " " + b.Version
	}
	for _, c := range tr.Status.Conditions {
		switch c.Type {
		case v1alpha1.ConditionSucceeded:
			r.verdict = c.Reason
		case v1alpha1.ConditionBaseReady:
			if tr.Status.StartedAt != nil {
				r.baseReady = c.LastTransitionTime.Sub(tr.Status.StartedAt.Time)
			}
		}
	}
	for _, d := range tr.Status.Deploys {
		if d.StartedAt == nil || d.ConvergedAt == nil {
			continue
		}
		took := d.ConvergedAt.Sub(d.StartedAt.Time)
		switch d.Role {
		case v1alpha1.RoleBase:
			r.baseDeploy = took.String()
		case v1alpha1.RoleHead:
			r.head = took
		}
	}
	for _, t := range tr.Status.Tiers {
		for _, c := range t.Checks {
			switch {
			case c.Name == "warm: volumes copied":
				r.warmCopy = c.Duration.Duration.Round(time.Millisecond).String()
			case c.Result == v1alpha1.ResultSkipped:
				r.checksNotRun++
			default:
				r.checksRun++
			}
		}
	}
	return r
}

func printRows(rows []row) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "run\tbase\tverdict\tlevel\twall (apply→verdict)\tbase ready (1 s)\tbase deploy converged\twarm copy\thead converged\tchecks run/not run")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d/%d\n", r.name, r.base, r.verdict, r.level, r.wall.Round(time.Millisecond),
			r.baseReady, r.baseDeploy, r.warmCopy, r.head.Round(time.Millisecond), r.checksRun, r.checksNotRun)
	}
	w.Flush()
	if len(rows) == 2 && rows[0].wall > 0 {
		fmt.Printf("\nwarm/cold wall time: %.2f (one run each, same head and base version, this machine, now)\n", rows[1].wall.Seconds()/rows[0].wall.Seconds())
	}
}

// serve starts `swarmrun serve` on the data dir and waits for its API.
func (b *bench) serve() (func(), error) {
	if err := os.MkdirAll(b.dataDir, 0o700); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(filepath.Dir(b.dataDir), "serve.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(b.bin, "--data-dir", b.dataDir, "serve")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start swarmrun serve: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		log.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := b.swarmrun("get", "recipes"); err == nil {
			return stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			out, _ := os.ReadFile(log.Name())
			return nil, fmt.Errorf("swarmrun serve did not answer within 30s:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// swarmrun runs the binary against the bench's server and returns its output.
func (b *bench) swarmrun(args ...string) ([]byte, error) {
	cmd := exec.Command(b.bin, append([]string{"--data-dir", b.dataDir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("swarmrun %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return out, nil
}

func (b *bench) apply(yaml string) error {
	cmd := exec.Command(b.bin, "--data-dir", b.dataDir, "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(yaml)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("swarmrun apply: %w\n%s", err, out)
	}
	return nil
}

// wait waits until the object's condition is True, and returns a TestRun as it then is. A
// run that ends red is an error naming its reason.
func (b *bench) wait(kind, name, cond string) (*v1alpha1.TestRun, error) {
	if _, err := b.swarmrun("wait", kind, name, "--for=condition="+cond, "--timeout", b.timeout.String()); err != nil {
		if kind == "testrun" {
			if tr, gerr := b.get(name); gerr == nil {
				for _, c := range tr.Status.Conditions {
					if c.Type == v1alpha1.ConditionSucceeded {
						return nil, fmt.Errorf("%s: %s: %s", name, c.Reason, c.Message)
					}
				}
			}
		}
		return nil, err
	}
	if kind != "testrun" {
		return nil, nil
	}
	return b.get(name)
}

func (b *bench) get(name string) (*v1alpha1.TestRun, error) {
	out, err := b.swarmrun("get", "testrun", name, "-o", "json")
	if err != nil {
		return nil, err
	}
	tr := &v1alpha1.TestRun{}
	if err := json.Unmarshal(out, tr); err != nil {
		return nil, fmt.Errorf("read testrun %s: %w", name, err)
	}
	return tr, nil
}

// cleanup deletes the runs (their teardown removes their stacks) and the Recipe (whose
// finalizer removes the warm stack), then removes the warm stack's volumes.
func (b *bench) cleanup() {
	for _, suffix := range []string{"promote", "cold", "warm"} {
		_, _ = b.swarmrun("delete", "testrun", b.recipe+"-"+suffix)
	}
	_, _ = b.swarmrun("delete", "recipe", b.recipe)
	for _, suffix := range []string{"promote", "cold", "warm"} {
		_, _ = b.swarmrun("wait", "testrun", b.recipe+"-"+suffix, "--for=delete", "--timeout", "2m")
	}
	_, _ = b.swarmrun("wait", "recipe", b.recipe, "--for=delete", "--timeout", "2m")
	if _, err := b.swarmrun("stack", "rm", "--volumes", "warm-"+b.recipe); err != nil {
		fmt.Fprintln(os.Stderr, "runbench: cleanup:", err)
	}
}

// makeRepo makes the recipe repository: 0.1.0+1 released on main, 0.2.0+2 on branch pr.
func makeRepo(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	git := func(args ...string) error {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=bench", "GIT_AUTHOR_EMAIL=bench@example.org",
			"GIT_COMMITTER_NAME=bench", "GIT_COMMITTER_EMAIL=bench@example.org", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	commit := func(v testkit.Version) error {
		for name, content := range map[string]string{"compose.yml": testkit.Compose(v), ".env.sample": testkit.EnvSample} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				return err
			}
		}
		if err := git("add", "-A"); err != nil {
			return err
		}
		return git("commit", "-q", "-m", "version "+v.Version)
	}
	steps := []func() error{
		func() error { return git("init", "-q", "-b", "main") },
		func() error {
			return commit(testkit.Version{Image: testkit.ProbeV1, Version: "0.1.0+1", Sidekiq: true})
		},
		func() error { return git("tag", "0.1.0+1") },
		func() error { return git("checkout", "-q", "-b", "pr") },
		func() error { return commit(testkit.Version{Image: testkit.ProbeV2, Version: "0.2.0+2"}) },
		func() error { return git("checkout", "-q", "main") },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return "", err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("no repository made in %s", dir)
	}
	return dir, nil
}

func recipeYAML(name, repo string) string {
	return fmt.Sprintf(`apiVersion: swarmrun.dev/v1alpha1
kind: Recipe
metadata:
  name: %s
spec:
  source:
    url: %s
  warm: true
  timeouts:
    deploy: 2m
  checks:
    install:
      - name: home
        http: {service: app, port: 8080, path: /healthz}
    upgrade:
      after:
        - name: version
          http: {service: app, port: 8080, path: /version, contains: "2"}
`, name, repo)
}

func testRunYAML(name, recipe, head, base, stages string) string {
	s := fmt.Sprintf(`apiVersion: swarmrun.dev/v1alpha1
kind: TestRun
metadata:
  name: %s
spec:
  recipe: %s
  head: %s
  timeout: 10m
`, name, recipe, head)
	if base != "" {
		s += "  base: {from: " + base + "}\n"
	}
	if stages != "" {
		s += "  stages: " + stages + "\n"
	}
	return s
}
