package converge_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// fast settings keep integration tests in seconds: start-first updates, a 1 s monitor and
// short restart delays, unless a test is about them.
const (
	testMonitor      = time.Second
	testRestartDelay = 200 * time.Millisecond
)

type specOption func(*swarm.ServiceSpec)

func probeSpec(stack, name, image string, opts ...specOption) swarm.ServiceSpec {
	replicas := uint64(1)
	delay := testRestartDelay
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: stack + "_" + name, Labels: map[string]string{swarmtest.NamespaceLabel: stack}},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: image, Labels: map[string]string{swarmtest.NamespaceLabel: stack}},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, Delay: &delay},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
		UpdateConfig: &swarm.UpdateConfig{
			Order: swarm.UpdateOrderStartFirst, Monitor: testMonitor, FailureAction: swarm.UpdateFailureActionPause,
		},
	}
	for _, o := range opts {
		o(&spec)
	}
	return spec
}

func withArgs(args ...string) specOption {
	return func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Args = args }
}

func withEnv(env ...string) specOption {
	return func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Env = env }
}

func withReplicas(n uint64) specOption {
	return func(s *swarm.ServiceSpec) { s.Mode.Replicated.Replicas = &n }
}

func withHealthcheck(interval time.Duration, retries int) specOption {
	return func(s *swarm.ServiceSpec) {
		s.TaskTemplate.ContainerSpec.Healthcheck = &container.HealthConfig{
			Test: []string{"CMD", "/probe", "-health"}, Interval: interval, Timeout: interval, Retries: retries,
		}
	}
}

func withFailureAction(action string) specOption {
	return func(s *swarm.ServiceSpec) { s.UpdateConfig.FailureAction = action }
}

func create(t *testing.T, c *client.Client, spec swarm.ServiceSpec) converge.Target {
	t.Helper()
	resp, err := c.ServiceCreate(t.Context(), spec, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatalf("create service %s: %v", spec.Name, err)
	}
	return converge.Target{ServiceID: resp.ID, Name: spec.Name, Changed: true}
}

// update applies mutate to the live service and returns the target of that apply.
func update(t *testing.T, c *client.Client, id string, mutate func(*swarm.ServiceSpec)) converge.Target {
	t.Helper()
	svc, _, err := c.ServiceInspectWithRaw(t.Context(), id, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatalf("inspect service %s: %v", id, err)
	}
	spec := svc.Spec
	mutate(&spec)
	if _, err := c.ServiceUpdate(t.Context(), id, svc.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
		t.Fatalf("update service %s: %v", svc.Spec.Name, err)
	}
	return converge.Target{ServiceID: id, Name: svc.Spec.Name, PrevVersion: svc.Version.Index, Changed: true}
}

// mustConverge waits for targets and fails the test unless they converge.
func mustConverge(t *testing.T, c *client.Client, targets []converge.Target, o converge.Options) *converge.Report {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	rep, err := converge.Wait(t.Context(), c, targets, o)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	for _, s := range rep.Services {
		if s.Phase != converge.PhaseConverged || s.ConvergedAt.IsZero() {
			t.Fatalf("service %s: phase %s, converged at %v", s.Name, s.Phase, s.ConvergedAt)
		}
	}
	return rep
}

// runningImages returns the images of the service's tasks that are running and meant to.
func runningImages(t *testing.T, c *client.Client, id string) []string {
	t.Helper()
	tasks, err := c.TaskList(t.Context(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", id))})
	if err != nil {
		t.Fatalf("list tasks: %v", err)
	}
	var out []string
	for _, tk := range tasks {
		if tk.Status.State == swarm.TaskStateRunning && tk.DesiredState == swarm.TaskStateRunning {
			out = append(out, tk.Spec.ContainerSpec.Image)
		}
	}
	return out
}

func wantError(t *testing.T, err error, reason converge.Reason, service string, contains ...string) *converge.Error {
	t.Helper()
	var ce *converge.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *converge.Error with reason %s, got %v", reason, err)
	}
	if ce.Reason != reason || ce.Service != service {
		t.Fatalf("want reason %s for service %s, got %s for %s: %v", reason, service, ce.Reason, ce.Service, err)
	}
	for _, s := range contains {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
	return ce
}

func TestWaitNewServicesConverge(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	t.Parallel()
	stack := swarmtest.StackName(t, c, "cv-new")
	var mu sync.Mutex
	phases := map[string][]converge.Phase{}
	targets := []converge.Target{
		create(t, c, probeSpec(stack, "web", swarmtest.ProbeV1, withReplicas(2))),
		create(t, c, probeSpec(stack, "health", swarmtest.ProbeV1, withHealthcheck(200*time.Millisecond, 3))),
	}
	start := time.Now()
	rep := mustConverge(t, c, targets, converge.Options{Progress: func(p converge.Progress) {
		mu.Lock()
		defer mu.Unlock()
		phases[p.Service] = append(phases[p.Service], p.Phase)
	}})
	t.Logf("2 new services converged in %s", time.Since(start))
	for _, s := range rep.Services {
		if s.Running != s.Desired || s.Desired == 0 {
			t.Errorf("service %s: %d/%d running", s.Name, s.Running, s.Desired)
		}
		got := phases[s.Name]
		if len(got) < 2 || got[len(got)-1] != converge.PhaseConverged {
			t.Errorf("service %s: progress phases %v, want a path ending in Converged", s.Name, got)
		}
	}
}
