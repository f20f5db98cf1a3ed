package stackcmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
)

// run executes `swarmrun stack ARGS...` in-process and returns its output and exit code.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	g := &cli.Globals{DataDir: t.TempDir()}
	root := &cobra.Command{Use: "swarmrun", SilenceUsage: true, SilenceErrors: true}
	g.Bind(root)
	root.AddCommand(Command(g))
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"stack"}, args...))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	if err != nil {
		out.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), cli.ExitCode(err)
}

// TestMalformedComposeExits2 feeds every malformed compose file of the render corpus to
// `stack deploy`: each must exit 2 with a message naming the file, before any engine call
// (no swarm is needed, none is touched).
func TestMalformedComposeExits2(t *testing.T) {
	bad, err := filepath.Glob("../../../../deploy/render/testdata/bad/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) < 10 {
		t.Fatalf("only %d malformed inputs found", len(bad))
	}
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock") // an engine call would fail differently
	for _, f := range bad {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, code := run(t, "deploy", "-c", f, "it-bad")
			if code != cli.ExitInvalid {
				t.Fatalf("exit %d, want 2; output:\n%s", code, out)
			}
			if !strings.Contains(out, filepath.Base(f)) || strings.Contains(out, "nonexistent") {
				t.Errorf("message does not name the file (or reached the engine):\n%s", out)
			}
		})
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for name, args := range map[string][]string{
		"no compose file":  {"deploy", "it-x"},
		"no stack":         {"deploy", "-c", "compose.yml"},
		"two stacks":       {"rm", "a", "b"},
		"unknown flag":     {"deploy", "--nope", "x"},
		"missing env file": {"deploy", "-c", "x.yml", "--env-file", "/nonexistent/.env", "it-x"},
	} {
		if out, code := run(t, args...); code != cli.ExitInvalid {
			t.Errorf("%s: exit %d, want 2; output:\n%s", name, code, out)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const v1 = `version: "3.8"
services:
  app:
    image: swarmrun-probe:1
    environment:
      GREETING: ${GREETING}
    deploy: {update_config: {order: start-first, monitor: 1s}}
  sidekiq:
    image: swarmrun-probe:1
    command: ["-sleep", "0"]
    deploy: {update_config: {order: start-first, monitor: 1s}}
`

const v2 = `version: "3.8"
services:
  app:
    image: swarmrun-probe:2
    environment:
      GREETING: ${GREETING}
    deploy: {update_config: {order: start-first, monitor: 1s}}
`

func assertEnv(t *testing.T, c *client.Client, service, want string) {
	t.Helper()
	svc, _, err := c.ServiceInspectWithRaw(t.Context(), service, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if env := svc.Spec.TaskTemplate.ContainerSpec.Env; !slices.Contains(env, want) {
		t.Errorf("%s env = %v, want %s", service, env, want)
	}
}
