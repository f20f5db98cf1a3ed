package deploy_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/render"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// renderStack renders compose files of a testdata directory for stack. The tests' own files
// may name files anywhere (a secret in a temporary directory), as an operator's may.
func renderStack(t *testing.T, stack, dir string, env map[string]string, files ...string) *render.Stack {
	t.Helper()
	if len(files) == 0 {
		files = []string{"compose.yml"}
	}
	st, err := render.Render(t.Context(), render.Options{Stack: stack, Dir: dir, Files: files, Env: maps.Clone(env), HostPaths: true})
	if err != nil {
		t.Fatalf("render %s: %v", dir, err)
	}
	return st
}

// testContext carries a logger that writes to the test log.
func testContext(t *testing.T) context.Context {
	t.Helper()
	return logr.NewContext(t.Context(), testr.New(t))
}

// realDeployer is a Deployer on the real swarm with a short poll interval.
func realDeployer(c *client.Client) *deploy.Deployer {
	return deploy.New(deploy.Options{Engine: c, PollInterval: 100 * time.Millisecond})
}

// stackServices lists the services labelled as stack's, by name.
func stackServices(t *testing.T, c *client.Client, stack string) map[string]swarm.Service {
	t.Helper()
	svcs, err := c.ServiceList(t.Context(), swarm.ServiceListOptions{
		Filters: filters.NewArgs(filters.Arg("label", swarmtest.NamespaceLabel+"="+stack)),
	})
	if err != nil {
		t.Fatalf("list services: %v", err)
	}
	out := map[string]swarm.Service{}
	for _, s := range svcs {
		out[s.Spec.Name] = s
	}
	return out
}

// waitRunning waits until every service of the stack has all its desired tasks running.
func waitRunning(t *testing.T, d *deploy.Deployer, stack string, timeout time.Duration) *deploy.StackState {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, err := d.Observe(t.Context(), stack)
		if err != nil {
			t.Fatalf("observe: %v", err)
		}
		if allRunning(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, stack %s is not running: %+v", timeout, stack, st.Services)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func allRunning(st *deploy.StackState) bool {
	if len(st.Services) == 0 {
		return false
	}
	for _, s := range st.Services {
		if s.Desired == 0 || s.Running < s.Desired {
			return false
		}
	}
	return true
}

// runningTaskIDs returns the IDs of the stack's tasks that are running.
func runningTaskIDs(t *testing.T, c *client.Client, stack string) map[string]bool {
	t.Helper()
	tasks, err := c.TaskList(t.Context(), swarm.TaskListOptions{
		Filters: filters.NewArgs(filters.Arg("label", swarmtest.NamespaceLabel+"="+stack)),
	})
	if err != nil {
		t.Fatalf("list tasks: %v", err)
	}
	ids := map[string]bool{}
	for _, tk := range tasks {
		if tk.Status.State == swarm.TaskStateRunning {
			ids[tk.ID] = true
		}
	}
	return ids
}

// renderWithOverlay renders compose.yml of dir with one inline overlay.
func renderWithOverlay(t *testing.T, stack, dir string, env map[string]string, overlay []byte) (*render.Stack, error) {
	t.Helper()
	return render.Render(t.Context(), render.Options{
		Stack: stack, Dir: dir, Files: []string{"compose.yml"}, Overlays: [][]byte{overlay}, Env: maps.Clone(env), HostPaths: true,
	})
}
