//go:build integration

package converge_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/internal/testkit"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

func withArgs(args ...string) specOption {
	return func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Args = args }
}

// withRollbackMonitor rolls an update back on failure and watches it for 3 s rather than
// the tests' usual 1 s. A task that crashes 200 ms after its start must be seen crashing
// within the monitor period, by the engine (which then rolls back) and by Wait (which would
// otherwise call it stable). Under the whole suite's load, with a 1 s monitor, Wait has seen
// such an update converge: the manager learns of a crash late, and a late crash report eats
// into a short window (see the package doc on stability).
func withRollbackMonitor(s *swarm.ServiceSpec) {
	s.UpdateConfig.FailureAction = swarm.UpdateFailureActionRollback
	s.UpdateConfig.Monitor = 3 * time.Second
}

func withEnv(env ...string) specOption {
	return func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Env = env }
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
		create(t, c, probeSpec(stack, "global", swarmtest.ProbeV1, func(s *swarm.ServiceSpec) {
			s.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
		})),
	}
	start := time.Now()
	rep := mustConverge(t, c, targets, converge.Options{Progress: func(p converge.Progress) {
		mu.Lock()
		defer mu.Unlock()
		phases[p.Service] = append(phases[p.Service], p.Phase)
	}})
	t.Logf("3 new services converged in %s", time.Since(start))
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

func TestWaitUpdateJudgedOnNewTasks(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "cv-upd")
	first := create(t, c, probeSpec(stack, "app", swarmtest.ProbeV1, withReplicas(2)))
	mustConverge(t, c, []converge.Target{first}, converge.Options{Stable: -1})

	// An independent poller notes when it first sees every task of the new spec running, and
	// the old ones no longer meant to run.
	seen := make(chan time.Time, 1)
	stop := make(chan struct{})
	go pollNewSpecRunning(t, c, first.ServiceID, swarmtest.ProbeV2, 2, seen, stop)
	defer close(stop)

	target := update(t, c, first.ServiceID, func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Image = swarmtest.ProbeV2 })
	applied := time.Now()
	rep := mustConverge(t, c, []converge.Target{target}, converge.Options{})
	if got := runningImages(t, c, target.ServiceID); len(got) != 2 || got[0] != swarmtest.ProbeV2 || got[1] != swarmtest.ProbeV2 {
		t.Fatalf("running images after convergence: %v, want 2 × %s", got, swarmtest.ProbeV2)
	}
	for _, tk := range rep.Services[0].Tasks {
		if !tk.UpToDate || tk.Image != swarmtest.ProbeV2 {
			t.Errorf("report judged on task %v, want only tasks of the new spec", tk)
		}
	}
	var polled time.Time
	select {
	case polled = <-seen:
	case <-time.After(5 * time.Second):
		t.Fatal("the 50 ms poller never saw the new spec running")
	}
	converged := rep.Services[0].ConvergedAt
	// The poller's verdict of "running and stable" is its first sighting plus the window.
	t.Logf("update converged %s after apply; poller saw new tasks running %s after apply; detection latency vs poller+monitor: %s",
		converged.Sub(applied), polled.Sub(applied), converged.Sub(polled.Add(testMonitor)))
	if lag := converged.Sub(polled.Add(testMonitor)); lag > 300*time.Millisecond {
		t.Errorf("convergence detected %s after the poller's stable point, want at most 300ms", lag)
	}
}

func pollNewSpecRunning(t *testing.T, c *client.Client, id, image string, want int, seen chan<- time.Time, stop <-chan struct{}) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		tasks, err := c.TaskList(t.Context(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", id))})
		if err != nil {
			continue
		}
		running, oldLive := 0, 0
		for _, tk := range tasks {
			live := tk.DesiredState == swarm.TaskStateRunning
			switch {
			case tk.Spec.ContainerSpec.Image == image && live && tk.Status.State == swarm.TaskStateRunning:
				running++
			case tk.Spec.ContainerSpec.Image != image && live:
				oldLive++
			}
		}
		if running == want && oldLive == 0 {
			seen <- time.Now()
			return
		}
	}
}

func TestWaitMissingImageFailsFast(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	t.Parallel()
	stack := swarmtest.StackName(t, c, "cv-img")
	const missing = "swarmrun-probe:does-not-exist"
	ok := create(t, c, probeSpec(stack, "ok", swarmtest.ProbeV1))
	bad := create(t, c, probeSpec(stack, "bad", missing))
	start := time.Now()
	_, err := converge.Wait(t.Context(), c, []converge.Target{ok, bad}, converge.Options{Timeout: 30 * time.Second})
	took := time.Since(start)
	t.Logf("missing image detected after %s: %v", took, err)
	ce := wantError(t, err, converge.ImageNotFound, bad.Name, missing)
	if took > 10*time.Second {
		t.Errorf("missing image took %s to detect, want within 10s", took)
	}
	if !slices.ContainsFunc(ce.Tasks, func(s converge.TaskSummary) bool { return strings.Contains(s.Err, "No such image") }) {
		t.Errorf("error tasks %v, want the rejected task's error", ce.Tasks)
	}
}

func TestWaitCrashLoopRollbackFails(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	t.Parallel()
	stack := swarmtest.StackName(t, c, "cv-rb")
	first := create(t, c, probeSpec(stack, "app", swarmtest.ProbeV1, withRollbackMonitor))
	mustConverge(t, c, []converge.Target{first}, converge.Options{Stable: -1})

	target := update(t, c, first.ServiceID, func(s *swarm.ServiceSpec) {
		s.TaskTemplate.ContainerSpec.Image = swarmtest.ProbeV2
		s.TaskTemplate.ContainerSpec.Args = []string{"-exit", "1", "-after", "200ms"}
	})
	start := time.Now()
	_, err := converge.Wait(t.Context(), c, []converge.Target{target}, converge.Options{Timeout: 60 * time.Second})
	t.Logf("rollback detected after %s: %v", time.Since(start), err)
	ce := wantError(t, err, converge.RolledBack, target.Name, "rollback", "non-zero exit")
	if len(ce.Tasks) == 0 || ce.Tasks[0].Image != swarmtest.ProbeV2 || !strings.Contains(ce.Tasks[0].Err, "non-zero exit") {
		t.Errorf("error tasks %v, want first the failed task of the update", ce.Tasks)
	}

	testkit.Eventually(t, 30*time.Second, 100*time.Millisecond, func() bool {
		got := runningImages(t, c, target.ServiceID)
		return len(got) == 1 && got[0] == swarmtest.ProbeV1
	}, "service %s does not run %s again after the rollback", target.Name, swarmtest.ProbeV1)
}

func TestWaitStaleRollbackDoesNotFailUnchangedService(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	t.Parallel()
	stack := swarmtest.StackName(t, c, "cv-stale")
	first := create(t, c, probeSpec(stack, "app", swarmtest.ProbeV1, withRollbackMonitor))
	mustConverge(t, c, []converge.Target{first}, converge.Options{Stable: -1})
	bad := update(t, c, first.ServiceID, func(s *swarm.ServiceSpec) {
		s.TaskTemplate.ContainerSpec.Args = []string{"-exit", "1", "-after", "200ms"}
	})
	_, err := converge.Wait(t.Context(), c, []converge.Target{bad}, converge.Options{Timeout: 60 * time.Second})
	wantError(t, err, converge.RolledBack, bad.Name)
	testkit.Eventually(t, 30*time.Second, 100*time.Millisecond, func() bool {
		svc, _, err := c.ServiceInspectWithRaw(t.Context(), first.ServiceID, swarm.ServiceInspectOptions{})
		return err == nil && svc.UpdateStatus != nil && svc.UpdateStatus.State == swarm.UpdateStateRollbackCompleted
	}, "rollback of %s did not complete", bad.Name)

	// A later apply that leaves the service alone: the rolled back state is stale.
	svc, _, err := c.ServiceInspectWithRaw(t.Context(), first.ServiceID, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unchanged := converge.Target{ServiceID: svc.ID, Name: svc.Spec.Name, PrevVersion: svc.Version.Index}
	mustConverge(t, c, []converge.Target{unchanged}, converge.Options{})
}

func TestWaitNeverHealthyFails(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	t.Parallel()
	stack := swarmtest.StackName(t, c, "cv-unh")
	target := create(t, c, probeSpec(stack, "sick", swarmtest.ProbeV1,
		withEnv("PROBE_UNHEALTHY=1"), withHealthcheck(200*time.Millisecond, 2)))
	start := time.Now()
	_, err := converge.Wait(t.Context(), c, []converge.Target{target}, converge.Options{Timeout: 40 * time.Second, MaxFailures: 2})
	t.Logf("never-healthy service failed after %s: %v", time.Since(start), err)
	wantError(t, err, converge.Unhealthy, target.Name, "health: unhealthy")
}

func TestWaitTimeoutNamesUnconvergedServices(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	t.Parallel()
	stack := swarmtest.StackName(t, c, "cv-tmo")
	// A service that converged before: the bound must not be spent on its start.
	ok := create(t, c, probeSpec(stack, "ok", swarmtest.ProbeV1))
	mustConverge(t, c, []converge.Target{ok}, converge.Options{})
	// A healthcheck that never passes within the bound: the task stays "starting".
	slow := create(t, c, probeSpec(stack, "slow", swarmtest.ProbeV1,
		withEnv("PROBE_UNHEALTHY=1"), withHealthcheck(time.Minute, 3)))
	crash := create(t, c, probeSpec(stack, "crash", swarmtest.ProbeV1, withArgs("-exit", "3")))
	testkit.Eventually(t, 30*time.Second, 100*time.Millisecond, func() bool {
		tasks, err := c.TaskList(t.Context(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", crash.ServiceID))})
		return err == nil && slices.ContainsFunc(tasks, func(tk swarm.Task) bool { return tk.Status.State == swarm.TaskStateFailed })
	}, "service %s never crashed", crash.Name)
	start := time.Now()
	rep, err := converge.Wait(t.Context(), c, []converge.Target{ok, slow, crash}, converge.Options{Timeout: 4 * time.Second, MaxFailures: -1})
	took := time.Since(start)
	t.Logf("timeout after %s: %v", took, err)
	ce := wantError(t, err, converge.Timeout, slow.Name, "health: starting", "non-zero exit")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout error is not a deadline: %v", err)
	}
	if took > 8*time.Second {
		t.Errorf("4s bound returned after %s", took)
	}
	var names []string
	for _, f := range ce.Services {
		names = append(names, f.Service)
		if len(f.Tasks) == 0 {
			t.Errorf("service %s: no last task states in the timeout", f.Service)
		}
	}
	if strings.Join(names, ",") != slow.Name+","+crash.Name {
		t.Errorf("timeout names %v, want %s and %s", names, slow.Name, crash.Name)
	}
	for _, s := range rep.Services {
		t.Logf("report: %s %s %s %v", s.Name, s.Phase, s.Message, s.Tasks)
	}
	if rep.Services[0].Phase != converge.PhaseConverged {
		t.Errorf("service %s: phase %s in the report, want Converged", ok.Name, rep.Services[0].Phase)
	}
}

func TestWaitJobsComplete(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	t.Parallel()
	stack := swarmtest.StackName(t, c, "cv-job")
	total := uint64(2)
	job := func(name string, args ...string) swarm.ServiceSpec {
		s := probeSpec(stack, name, swarmtest.ProbeV1, withArgs(args...))
		s.Mode = swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{TotalCompletions: &total, MaxConcurrent: &total}}
		s.UpdateConfig = nil
		s.TaskTemplate.RestartPolicy.Condition = swarm.RestartPolicyConditionNone
		return s
	}
	good := create(t, c, job("good", "-exit", "0"))
	rep := mustConverge(t, c, []converge.Target{good}, converge.Options{})
	if s := rep.Services[0]; s.Running != 2 || s.Desired != 2 || s.Mode != "replicated-job" {
		t.Errorf("job report %+v, want 2/2 completed replicated-job", s)
	}
	all := job("all", "-exit", "0")
	all.Mode = swarm.ServiceMode{GlobalJob: &swarm.GlobalJob{}}
	rep = mustConverge(t, c, []converge.Target{create(t, c, all)}, converge.Options{})
	if s := rep.Services[0]; s.Running != 1 || s.Desired != 1 || s.Mode != "global-job" {
		t.Errorf("global job report %+v, want 1/1 completed global-job", s)
	}
	bad := create(t, c, job("bad", "-exit", "4"))
	_, err := converge.Wait(t.Context(), c, []converge.Target{bad}, converge.Options{Timeout: 30 * time.Second})
	wantError(t, err, converge.TaskFailed, bad.Name, "will not be restarted")
}

func TestWaitCrashLoopNeverConverges(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	t.Parallel()
	stack := swarmtest.StackName(t, c, "cv-loop")
	// Each task runs 300 ms, then crashes: "running" is seen often, never for the window.
	crash := create(t, c, probeSpec(stack, "crash", swarmtest.ProbeV1, withArgs("-exit", "1", "-after", "300ms")))
	_, err := converge.Wait(t.Context(), c, []converge.Target{crash}, converge.Options{Timeout: 8 * time.Second, MaxFailures: -1})
	wantError(t, err, converge.Timeout, crash.Name, "non-zero exit")
}

func TestWaitWakesOnEvents(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "cv-ev")
	first := create(t, c, probeSpec(stack, "app", swarmtest.ProbeV1))
	mustConverge(t, c, []converge.Target{first}, converge.Options{Stable: -1})

	seen := make(chan time.Time, 1)
	stop := make(chan struct{})
	defer close(stop)
	go pollNewSpecRunning(t, c, first.ServiceID, swarmtest.ProbeV2, 1, seen, stop)
	target := update(t, c, first.ServiceID, func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Image = swarmtest.ProbeV2 })
	// Without a poll in the test's lifetime, only events (and the looks that follow them) can
	// notice the new task running; with no window, running is convergence.
	rep := mustConverge(t, c, []converge.Target{target}, converge.Options{Poll: time.Hour, Stable: -1, Timeout: 30 * time.Second})
	var polled time.Time
	select {
	case polled = <-seen:
	case <-time.After(5 * time.Second):
		t.Fatal("the 50 ms poller never saw the new spec running")
	}
	lag := rep.Services[0].ConvergedAt.Sub(polled)
	t.Logf("event-driven detection of the new task running: %s after a 50 ms poller", lag)
	if lag > 300*time.Millisecond {
		t.Errorf("detected %s after the poller, want at most 300ms", lag)
	}
}

func TestWaitManyServicesAgainstPoller(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	stack := swarmtest.StackName(t, c, "cv-many")
	const n = 10
	// The poller notes when it first sees each task running; the stack is stable one monitor
	// period after the last of those sightings.
	firstRunning := map[string]time.Time{}
	stop := make(chan struct{})
	polled := make(chan time.Time, 1)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		f := filters.NewArgs(filters.Arg("label", swarmtest.NamespaceLabel+"="+stack))
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			tasks, err := c.TaskList(t.Context(), swarm.TaskListOptions{Filters: f})
			if err != nil {
				continue
			}
			services := map[string]bool{}
			for _, tk := range tasks {
				if tk.Status.State == swarm.TaskStateRunning && tk.DesiredState == swarm.TaskStateRunning {
					if _, ok := firstRunning[tk.ID]; !ok {
						firstRunning[tk.ID] = time.Now()
					}
					services[tk.ServiceID] = true
				}
			}
			if len(services) == n {
				var last time.Time
				for _, at := range firstRunning {
					if at.After(last) {
						last = at
					}
				}
				polled <- last.Add(testMonitor)
				return
			}
		}
	}()
	defer close(stop)
	start := time.Now()
	var targets []converge.Target
	for i := range n {
		targets = append(targets, create(t, c, probeSpec(stack, fmt.Sprintf("s%d", i), swarmtest.ProbeV1)))
	}
	rep := mustConverge(t, c, targets, converge.Options{})
	var last time.Time
	for _, s := range rep.Services {
		if s.ConvergedAt.After(last) {
			last = s.ConvergedAt
		}
	}
	var stable time.Time
	select {
	case stable = <-polled:
	case <-time.After(10 * time.Second):
		t.Fatal("the poller never saw every service running")
	}
	lag := last.Sub(stable)
	t.Logf("%d services: converged %s after the first create; %s after the 50 ms poller's stable point (%s after start)",
		n, last.Sub(start), lag, stable.Sub(start))
	if limit := stable.Sub(start)/10 + 300*time.Millisecond; lag > limit {
		t.Errorf("detected %s after the poller, want at most %s", lag, limit)
	}
}

func TestWaitCrashLoopUpdatePauses(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	t.Parallel()
	stack := swarmtest.StackName(t, c, "cv-pause")
	first := create(t, c, probeSpec(stack, "app", swarmtest.ProbeV1))
	mustConverge(t, c, []converge.Target{first}, converge.Options{Stable: -1})
	target := update(t, c, first.ServiceID, func(s *swarm.ServiceSpec) {
		s.TaskTemplate.ContainerSpec.Image = swarmtest.ProbeV2
		s.TaskTemplate.ContainerSpec.Args = []string{"-exit", "1", "-after", "200ms"}
	})
	start := time.Now()
	_, err := converge.Wait(t.Context(), c, []converge.Target{target}, converge.Options{Timeout: 60 * time.Second})
	t.Logf("paused update detected after %s: %v", time.Since(start), err)
	wantError(t, err, converge.UpdatePaused, target.Name, "paused", "non-zero exit")
}

func TestWaitSettledServiceConvergesAtOnce(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	t.Parallel()
	stack := swarmtest.StackName(t, c, "cv-once")
	first := create(t, c, probeSpec(stack, "app", swarmtest.ProbeV1))
	mustConverge(t, c, []converge.Target{first}, converge.Options{})
	svc, _, err := c.ServiceInspectWithRaw(t.Context(), first.ServiceID, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A later apply that leaves the service alone must not wait out a window a second time.
	start := time.Now()
	mustConverge(t, c, []converge.Target{{ServiceID: svc.ID, Name: svc.Spec.Name, PrevVersion: svc.Version.Index}}, converge.Options{})
	took := time.Since(start)
	t.Logf("settled service judged converged in %s", took)
	if took > testMonitor/2 {
		t.Errorf("settled service took %s, want one look", took)
	}
}

func TestWaitCrashLoopNewServiceFails(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	t.Parallel()
	stack := swarmtest.StackName(t, c, "cv-newcrash")
	// No update, so no failure action: only the loop itself tells.
	target := create(t, c, probeSpec(stack, "app", swarmtest.ProbeV1, withArgs("-exit", "2", "-after", "100ms")))
	start := time.Now()
	_, err := converge.Wait(t.Context(), c, []converge.Target{target}, converge.Options{Timeout: 60 * time.Second})
	t.Logf("crash loop of a new service detected after %s: %v", time.Since(start), err)
	wantError(t, err, converge.TaskFailed, target.Name, "in a row", "non-zero exit (2)")
}
