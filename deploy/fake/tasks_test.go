package fake_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
)

// TestManualStepsThroughTaskStates: in manual mode nothing moves until Step, and each step
// moves a task one state, as the engine's agent reports them.
func TestManualStepsThroughTaskStates(t *testing.T) {
	f, _ := newManual(t)
	id := mustCreate(t, f, svcSpec("web", probe1))
	if ts := tasksOf(t, f, id); len(ts) != 0 {
		t.Fatalf("tasks before the first step: %v", states(ts))
	}
	want := []swarm.TaskState{swarm.TaskStateNew, swarm.TaskStatePending, swarm.TaskStateAssigned, swarm.TaskStateAccepted,
		swarm.TaskStatePreparing, swarm.TaskStateReady, swarm.TaskStateStarting, swarm.TaskStateRunning}
	var got []swarm.TaskState
	for f.Step() {
		ts := tasksOf(t, f, id)
		if len(ts) != 1 {
			t.Fatalf("tasks: %v", states(ts))
		}
		got = append(got, ts[0].Status.State)
	}
	// The orchestrator creates the task (new) and the agent moves it in the same step.
	if !reflect.DeepEqual(got, want[1:]) {
		t.Errorf("states per step:\n got %v\nwant %v", got, want[1:])
	}
	if f.Step() {
		t.Errorf("a settled swarm still changes")
	}
}

func TestSettleRunsEveryReplica(t *testing.T) {
	f, _ := newManual(t)
	spec := svcSpec("web", probe1)
	spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: ptr(uint64(3))}
	id := mustCreate(t, f, spec)
	f.Settle()
	slots := map[int]bool{}
	for _, tk := range tasksOf(t, f, id) {
		if tk.Status.State != swarm.TaskStateRunning {
			t.Errorf("task not running: %+v", tk.Status)
		}
		slots[tk.Slot] = true
	}
	if !reflect.DeepEqual(slots, map[int]bool{1: true, 2: true, 3: true}) {
		t.Errorf("slots: %v", slots)
	}
}

// TestRestartDelayFollowsTheClock: a crashed task is replaced at once by a task that waits
// with desired state ready until the restart delay has passed on the injected clock.
func TestRestartDelayFollowsTheClock(t *testing.T) {
	f, clk := newClocked(t)
	f.CrashImage(probe1, 2)
	spec := svcSpec("crash", probe1)
	spec.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Delay: ptr(10 * time.Second)}
	id := mustCreate(t, f, spec)
	ts := tasksOf(t, f, id)
	if len(ts) != 2 || ts[0].Status.State != swarm.TaskStateFailed || ts[0].Status.Err != "task: non-zero exit (2)" ||
		ts[0].Status.ContainerStatus.ExitCode != 2 || ts[0].DesiredState != swarm.TaskStateShutdown {
		t.Fatalf("after the crash: %+v", ts)
	}
	if ts[1].DesiredState != swarm.TaskStateReady || ts[1].Status.State != swarm.TaskStateReady {
		t.Fatalf("replacement: desired %s state %s", ts[1].DesiredState, ts[1].Status.State)
	}
	clk.Advance(9 * time.Second)
	if n := len(tasksOf(t, f, id)); n != 2 {
		t.Fatalf("restarted before the delay: %d tasks", n)
	}
	clk.Advance(time.Second)
	if n := len(tasksOf(t, f, id)); n != 3 {
		t.Fatalf("not restarted after the delay: %d tasks", n)
	}
}

func TestRestartPolicyNoneAndMaxAttempts(t *testing.T) {
	f, clk := newClocked(t)
	f.CrashService("none", 1)
	f.CrashService("twice", 1)
	none := svcSpec("none", probe1)
	none.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone}
	twice := svcSpec("twice", probe1)
	twice.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{MaxAttempts: ptr(uint64(2)), Delay: ptr(time.Second)}
	nid, tid := mustCreate(t, f, none), mustCreate(t, f, twice)
	for range 10 {
		clk.Advance(time.Second)
	}
	if ts := tasksOf(t, f, nid); len(ts) != 1 {
		t.Errorf("restart none: %v", states(ts))
	}
	if ts := tasksOf(t, f, tid); len(ts) != 2 {
		t.Errorf("max attempts 2: %v", states(ts))
	}
}

func TestNeverHealthyFailsAfterRetries(t *testing.T) {
	f, clk := newClocked(t)
	f.NeverHealthy("sick")
	spec := svcSpec("sick", probe1)
	spec.TaskTemplate.ContainerSpec.Healthcheck = &container.HealthConfig{Test: []string{"CMD", "/probe", "-health"}, Interval: 2 * time.Second, Retries: 3}
	id := mustCreate(t, f, spec)
	if ts := tasksOf(t, f, id); len(ts) != 1 || ts[0].Status.State != swarm.TaskStateStarting {
		t.Fatalf("unhealthy task: %v", states(ts))
	}
	clk.Advance(5 * time.Second)
	if ts := tasksOf(t, f, id); ts[0].Status.State != swarm.TaskStateStarting {
		t.Fatalf("failed before interval × retries: %v", states(ts))
	}
	clk.Advance(time.Second)
	ts := tasksOf(t, f, id)
	if ts[0].Status.State != swarm.TaskStateComplete || ts[0].DesiredState != swarm.TaskStateShutdown || ts[0].Status.ContainerStatus.ExitCode != 0 {
		t.Fatalf("after interval × retries: %+v", ts[0].Status)
	}
	if len(ts) != 2 || ts[1].DesiredState != swarm.TaskStateReady {
		t.Errorf("the unhealthy task is not replaced: %v", states(ts))
	}
	healthy := svcSpec("fine", probe1)
	healthy.TaskTemplate.ContainerSpec.Healthcheck = spec.TaskTemplate.ContainerSpec.Healthcheck
	if ts := tasksOf(t, f, mustCreate(t, f, healthy)); ts[0].Status.State != swarm.TaskStateRunning {
		t.Errorf("healthy task: %v", states(ts))
	}
}

// TestTaskHistoryIsReaped keeps at most five tasks per slot, as the engine's default
// TaskHistoryRetentionLimit does, so crash loops do not grow the store.
func TestTaskHistoryIsReaped(t *testing.T) {
	f, clk := newClocked(t)
	f.CrashImage(probe1, 1)
	id := mustCreate(t, f, svcSpec("loop", probe1))
	for range 20 {
		clk.Advance(5 * time.Second)
	}
	if n := len(tasksOf(t, f, id)); n != 5 {
		t.Errorf("tasks kept: %d, want 5", n)
	}
}

func TestMissingImageAndAddImage(t *testing.T) {
	f, clk := newClocked(t)
	id := mustCreate(t, f, svcSpec("late", "registry.example/late:1"))
	ts := tasksOf(t, f, id)
	if ts[0].Status.State != swarm.TaskStateRejected || ts[0].Status.Err != "No such image: registry.example/late:1" {
		t.Fatalf("missing image: %+v", ts[0].Status)
	}
	f.AddImage("registry.example/late:1")
	clk.Advance(5 * time.Second)
	clk.Advance(5 * time.Second)
	ts = tasksOf(t, f, id)
	if last := ts[len(ts)-1]; last.Status.State != swarm.TaskStateRunning {
		t.Errorf("after the image appeared: %v", states(ts))
	}
}

func TestReplicatedJobRunsCompletions(t *testing.T) {
	f, _ := newManual(t)
	spec := svcSpec("job", probe1)
	spec.Mode = swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{MaxConcurrent: ptr(uint64(2)), TotalCompletions: ptr(uint64(5))}}
	id := mustCreate(t, f, spec)
	maxLive := 0
	for f.Step() {
		live := 0
		for _, tk := range tasksOf(t, f, id) {
			if tk.Status.State != swarm.TaskStateComplete {
				live++
			}
		}
		maxLive = max(maxLive, live)
	}
	ts := tasksOf(t, f, id)
	if len(ts) != 5 || maxLive > 2 {
		t.Errorf("job tasks: %v, at most %d at once", states(ts), maxLive)
	}
	for _, tk := range ts {
		if tk.Status.State != swarm.TaskStateComplete || tk.DesiredState != swarm.TaskStateComplete || tk.JobIteration == nil {
			t.Errorf("job task: %+v", tk)
		}
	}
}

func TestGlobalServiceRunsOnTheNode(t *testing.T) {
	f, _ := newClocked(t)
	spec := svcSpec("glob", probe1)
	spec.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
	ts := tasksOf(t, f, mustCreate(t, f, spec))
	nodes, err := f.NodeList(t.Context(), swarm.NodeListOptions{})
	if err != nil || len(nodes) != 1 {
		t.Fatalf("nodes: %v %v", err, nodes)
	}
	if len(ts) != 1 || ts[0].NodeID != nodes[0].ID || ts[0].Slot != 0 || ts[0].Status.State != swarm.TaskStateRunning {
		t.Errorf("global task: %+v", ts)
	}
}

func ptr[T any](v T) *T { return &v }

// TestTimeNeverRunsBackwards: a settle after a write on a moved clock never stamps anything
// earlier than the write.
func TestTimeNeverRunsBackwards(t *testing.T) {
	f, clk := newManual(t)
	f.Settle()
	clk.Advance(time.Hour)
	id := mustCreate(t, f, svcSpec("late", probe1))
	f.Settle()
	created := mustInspect(t, f, id).CreatedAt
	for _, tk := range tasksOf(t, f, id) {
		if tk.CreatedAt.Before(created) || tk.Status.Timestamp.Before(created) {
			t.Errorf("task %s stamped %s/%s, before its service was created at %s", tk.ID, tk.CreatedAt, tk.Status.Timestamp, created)
		}
	}
}
