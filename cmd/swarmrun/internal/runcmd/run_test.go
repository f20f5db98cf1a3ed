package runcmd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/internal/testkit"
	"github.com/swarmrun/swarmrun/reconcile"
)

// childEnv makes the test binary act as the swarmrun command, for the tests that kill it.
const childEnv = "SWARMRUN_RUNCMD_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(execute(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// execute runs `swarmrun ARGS` with only the run command, and returns its exit code.
func execute(ctx context.Context, args []string, stdout, stderr *os.File) int {
	code, _ := executeTo(ctx, args, stdout, stderr)
	return code
}

// executeTo runs `swarmrun ARGS` in this process.
func executeTo(ctx context.Context, args []string, stdout, stderr interface{ Write([]byte) (int, error) }) (int, error) {
	g := &cli.Globals{}
	root := &cobra.Command{Use: "swarmrun", SilenceUsage: true, SilenceErrors: true}
	g.Bind(root)
	root.AddCommand(Command(g))
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
	}
	return cli.ExitCode(err), err
}

func writeSpec(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "run.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Acceptance 12, first half: bad input exits 2 and names the field, before anything runs.
func TestRunBadInput(t *testing.T) {
	tests := []struct {
		name, spec, want string
	}{
		{"unknown stage", `apiVersion: swarmrun.dev/v1alpha1
kind: TestRun
metadata: {name: bad}
spec: {recipe: demo, stages: [instal]}
`, "spec.stages[0]"},
		{"recipe without url", `apiVersion: swarmrun.dev/v1alpha1
kind: Recipe
metadata: {name: demo}
spec: {source: {}}
---
apiVersion: swarmrun.dev/v1alpha1
kind: TestRun
metadata: {name: ok}
spec: {recipe: demo}
`, "spec.source.url"},
		{"unknown field", `apiVersion: swarmrun.dev/v1alpha1
kind: TestRun
metadata: {name: bad}
spec: {recipe: demo, teardwn: Always}
`, `unknown field "teardwn"`},
		{"no testrun", `apiVersion: swarmrun.dev/v1alpha1
kind: Recipe
metadata: {name: demo}
spec: {source: {url: /tmp}}
`, "exactly one TestRun"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code, _ := executeTo(t.Context(), []string{"run", "-f", writeSpec(t, tt.spec), "--data-dir", t.TempDir()}, &out, &errOut)
			if code != cli.ExitInvalid {
				t.Errorf("exit %d, want %d", code, cli.ExitInvalid)
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr does not name %q:\n%s", tt.want, errOut.String())
			}
		})
	}
}

const killRecipe = `apiVersion: swarmrun.dev/v1alpha1
kind: Recipe
metadata: {name: killed}
spec:
  source: {url: %s}
  timeouts: {deploy: 2m}
---
apiVersion: swarmrun.dev/v1alpha1
kind: TestRun
metadata: {name: %s}
spec:
  recipe: killed
  upgradeBase: 0.1.0+1
  stages: [install, upgrade]
  teardown: Never
  timeout: 4m
`

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// runChild runs the command in a child process. With a marker, it kills the child with
// SIGKILL as soon as a line of its output contains the marker, and returns an error.
func runChild(t *testing.T, args []string, marker string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	// Progress (stdout) and logs (stderr) both carry markers: read them as one stream.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer r.Close()
	var buf strings.Builder
	killed := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		buf.WriteString(line + "\n")
		if marker != "" && !killed && strings.Contains(line, marker) {
			killed = true
			_ = cmd.Process.Kill() // SIGKILL, by the PID this test started
		}
	}
	err = cmd.Wait()
	if marker != "" && !killed {
		return buf.String(), nil
	}
	return buf.String(), err
}

// stackOf reads the run's stack name from the store the killed child left.
func stackOf(t *testing.T, dataDir, name string) string {
	t.Helper()
	st, err := store.Open(filepath.Join(dataDir, "swarmrun.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tr := &v1alpha1.TestRun{}
	if err := st.Get(t.Context(), name, tr); err != nil {
		t.Fatal(err)
	}
	return reconcile.StackName(tr)
}

// testRepo builds the acceptance recipe (testkit.Standard): 0.1.0+1 (probe 1, app and
// sidekiq) and main at 0.2.0+2 (probe 2, sidekiq dropped).
func testRepo(t *testing.T) string {
	t.Helper()
	dir, _ := testkit.Standard(t, "main")
	return dir
}

// tailLines is the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
