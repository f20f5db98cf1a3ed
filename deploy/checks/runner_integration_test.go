//go:build integration

package checks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/swarmrun/swarmrun/internal/testkit"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/checks"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
	"github.com/swarmrun/swarmrun/internal/mask"
)

// startApp creates the stack's network and a probe service "app" on it, and waits until its
// task runs.
func startApp(t *testing.T, c *client.Client, stack string) {
	t.Helper()
	ctx := t.Context()
	ns := map[string]string{swarmtest.NamespaceLabel: stack}
	netw, err := c.NetworkCreate(ctx, stack+"_default", network.CreateOptions{Driver: "overlay", Labels: ns})
	if err != nil {
		t.Fatal(err)
	}
	one := uint64(1)
	_, err = c.ServiceCreate(ctx, swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: stack + "_app", Labels: ns},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: swarmtest.ProbeV1, Labels: ns},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: netw.ID, Aliases: []string{"app"}}},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
	}, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 30*time.Second, 200*time.Millisecond, func() bool {
		tasks, err := c.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", stack+"_app"))})
		if err != nil {
			return false
		}
		for _, tk := range tasks {
			if tk.Status.State == swarm.TaskStateRunning {
				return true
			}
		}
		return false
	}, "app of %s never ran", stack)
}

func TestChecksOnRealSwarm(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	stack := swarmtest.StackName(t, c, "chk")
	startApp(t, c, stack)

	const secret = "sekrit-value-42"
	r := checks.New(checks.Options{Engine: c, Timeout: 60 * time.Second})
	m := mask.New(secret)
	jobURL := "http://tasks." + stack + "_app:8080/version"
	tests := []struct {
		check      v1alpha1.Check
		want       v1alpha1.TierResultValue
		msg, inOut string
	}{
		{check: v1alpha1.Check{Name: "healthz", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/healthz", ExpectStatus: 200, Contains: "ok"}},
			want: v1alpha1.ResultPassed, inOut: "status 200"},
		{check: v1alpha1.Check{Name: "wrong body", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/version", Contains: "not-there"}},
			want: v1alpha1.ResultFailed, msg: "exit code 1"},
		{check: v1alpha1.Check{Name: "write", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/data/k", Method: "PUT", Body: "v-1", ExpectStatus: 204}},
			want: v1alpha1.ResultPassed},
		{check: v1alpha1.Check{Name: "read", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/data/k", Contains: "v-1"}},
			want: v1alpha1.ResultPassed},
		{check: v1alpha1.Check{Name: "exec health", Exec: &v1alpha1.ExecCheck{Service: "app", Command: []string{"/probe", "-health"}}},
			want: v1alpha1.ResultPassed},
		{check: v1alpha1.Check{Name: "exec exit 3", Exec: &v1alpha1.ExecCheck{Service: "app", Command: []string{"/probe", "-exit", "3"}}},
			want: v1alpha1.ResultFailed, msg: "exit code 3"},
		{check: v1alpha1.Check{Name: "job", Job: &v1alpha1.JobCheck{Image: swarmtest.ProbeV1, Command: []string{"-check", jobURL, "-contains", "1"}}},
			want: v1alpha1.ResultPassed},
		{check: v1alpha1.Check{Name: "masked", Job: &v1alpha1.JobCheck{Image: swarmtest.ProbeV1,
			Command: []string{"-check", "http://tasks." + stack + "_app:8080/env/" + secret, "-retries", "1"}}},
			want: v1alpha1.ResultFailed, inOut: mask.Masked},
		{check: v1alpha1.Check{Name: "missing service", HTTP: &v1alpha1.HTTPCheck{Service: "nope", Port: 80}},
			want: v1alpha1.ResultFailed, msg: "service nope not found"},
	}
	for _, tt := range tests {
		got := r.Run(t.Context(), stack, tt.check, m)
		if got.Result != tt.want {
			t.Errorf("%s: result %s (%s), want %s; output:\n%s", tt.check.Name, got.Result, got.Message, tt.want, got.Output)
		}
		if tt.msg != "" && !strings.Contains(got.Message, tt.msg) {
			t.Errorf("%s: message %q lacks %q", tt.check.Name, got.Message, tt.msg)
		}
		if tt.inOut != "" && !strings.Contains(got.Output, tt.inOut) {
			t.Errorf("%s: output %q lacks %q", tt.check.Name, got.Output, tt.inOut)
		}
		if strings.Contains(got.Output+got.Message, secret) {
			t.Errorf("%s: secret leaked into the result", tt.check.Name)
		}
		if got.Duration.Duration <= 0 {
			t.Errorf("%s: no duration", tt.check.Name)
		}
	}
	assertNoCheckLeftovers(t.Context(), t, c, stack)
}

// assertNoCheckLeftovers shows that running checks leaves nothing in the swarm: no check
// service and no task of one, so a long-lived controller accumulates nothing.
func assertNoCheckLeftovers(ctx context.Context, t *testing.T, c *client.Client, stack string) {
	t.Helper()
	f := filters.NewArgs(filters.Arg("label", v1alpha1.LabelRole+"="+v1alpha1.RoleCheck),
		filters.Arg("label", swarmtest.NamespaceLabel+"="+stack))
	svcs, err := c.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != 0 {
		t.Errorf("%d check services left behind", len(svcs))
	}
	testkit.Eventually(t, 20*time.Second, 200*time.Millisecond, func() bool {
		tasks, err := c.TaskList(ctx, swarm.TaskListOptions{})
		if err != nil {
			return false
		}
		for _, tk := range tasks {
			if strings.HasPrefix(tk.Spec.ContainerSpec.Labels[swarmtest.NamespaceLabel], stack) && tk.ServiceID != "" {
				if _, _, err := c.ServiceInspectWithRaw(ctx, tk.ServiceID, swarm.ServiceInspectOptions{}); cerrdefs.IsNotFound(err) {
					return false // a task of a removed (check) service is still in the store
				}
			}
		}
		return true
	}, "tasks of removed check services stay in the swarm store")
}
