package converge

import (
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// at is a time relative to t0.
func at(d time.Duration) time.Time { return t0.Add(d) }

type svcOption func(*swarm.Service)

// service is a replicated service "app" (2 replicas, image app:2, 1 s monitor) at version 10.
func service(opts ...svcOption) swarm.Service {
	replicas := uint64(2)
	s := swarm.Service{
		ID:   "svc1",
		Meta: swarm.Meta{Version: swarm.Version{Index: 10}},
		Spec: swarm.ServiceSpec{
			Annotations:  swarm.Annotations{Name: "app"},
			TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "app:2"}},
			Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
			UpdateConfig: &swarm.UpdateConfig{Monitor: time.Second},
		},
	}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func replicas(n uint64) svcOption {
	return func(s *swarm.Service) { s.Spec.Mode.Replicated.Replicas = &n }
}

func global() svcOption {
	return func(s *swarm.Service) { s.Spec.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}} }
}

func constrained() svcOption {
	return func(s *swarm.Service) {
		s.Spec.TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.labels.db==true"}}
	}
}

func replicatedJob(total uint64, iteration uint64) svcOption {
	return func(s *swarm.Service) {
		s.Spec.Mode = swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{TotalCompletions: &total}}
		s.JobStatus = &swarm.JobStatus{JobIteration: swarm.Version{Index: iteration}}
	}
}

func globalJob(iteration uint64) svcOption {
	return func(s *swarm.Service) {
		s.Spec.Mode = swarm.ServiceMode{GlobalJob: &swarm.GlobalJob{}}
		s.JobStatus = &swarm.JobStatus{JobIteration: swarm.Version{Index: iteration}}
	}
}

func healthchecked(interval time.Duration) svcOption {
	return func(s *swarm.Service) {
		s.Spec.TaskTemplate.ContainerSpec.Healthcheck = &container.HealthConfig{Test: []string{"CMD", "/probe", "-health"}, Interval: interval}
	}
}

func updateState(state swarm.UpdateState, msg string) svcOption {
	return func(s *swarm.Service) { s.UpdateStatus = &swarm.UpdateStatus{State: state, Message: msg} }
}

// tk is a task as the judge sees it: whether the engine reports it up to date, and its facts.
type tk struct {
	id       string
	slot     int
	node     string
	state    swarm.TaskState
	desired  swarm.TaskState
	created  time.Duration // relative to t0
	since    time.Duration // status timestamp, relative to t0
	stale    bool          // of a previous spec
	err      string
	image    string
	iter     uint64
	restart  *swarm.RestartPolicy
	exitCode int
}

func (k tk) task() swarm.Task {
	node := k.node
	if node == "" {
		node = "n1"
	}
	desired := k.desired
	if desired == "" {
		desired = swarm.TaskStateRunning
	}
	image := k.image
	if image == "" {
		image = "app:2"
		if k.stale {
			image = "app:1"
		}
	}
	t := swarm.Task{
		ID:           k.id,
		Meta:         swarm.Meta{CreatedAt: at(k.created)},
		ServiceID:    "svc1",
		Slot:         k.slot,
		NodeID:       node,
		DesiredState: desired,
		Spec:         swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: image}, RestartPolicy: k.restart},
		Status: swarm.TaskStatus{
			State: k.state, Timestamp: at(k.since), Err: k.err,
			ContainerStatus: &swarm.ContainerStatus{ContainerID: "c-" + k.id, ExitCode: k.exitCode},
		},
	}
	if k.iter > 0 {
		t.JobIteration = &swarm.Version{Index: k.iter}
	}
	return t
}

func running(id string, slot int, since time.Duration) tk {
	return tk{id: id, slot: slot, state: swarm.TaskStateRunning, created: since - 100*time.Millisecond, since: since}
}

func node(id string, state swarm.NodeState, avail swarm.NodeAvailability) swarm.Node {
	return swarm.Node{ID: id, Status: swarm.NodeStatus{State: state}, Spec: swarm.NodeSpec{Availability: avail}}
}

var oneNode = []swarm.Node{node("n1", swarm.NodeStateReady, swarm.NodeAvailabilityActive)}

func observation(svc swarm.Service, nodes []swarm.Node, tasks ...tk) Observation {
	o := Observation{Service: svc, UpToDate: map[string]bool{}, Nodes: nodes, Health: map[string]string{}}
	for _, k := range tasks {
		o.Tasks = append(o.Tasks, k.task())
		if !k.stale {
			o.UpToDate[k.id] = true
		}
	}
	return o
}

var (
	applied = Target{ServiceID: "svc1", Name: "app", PrevVersion: 5, Changed: true}
	created = Target{ServiceID: "svc1", Name: "app", Changed: true}
	kept    = Target{ServiceID: "svc1", Name: "app", PrevVersion: 10}
)

func TestJudge(t *testing.T) {
	restartNone := &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone}
	restartOnFailure := &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionOnFailure}
	two := uint64(2)
	restartTwice := &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, MaxAttempts: &two}
	crashed := func(id string, slot int, created time.Duration) tk {
		return tk{id: id, slot: slot, state: swarm.TaskStateFailed, desired: swarm.TaskStateShutdown, created: created, since: created + 300*time.Millisecond, err: "task: non-zero exit (1)"}
	}
	waiting := func(id string, slot int, created time.Duration) tk {
		return tk{id: id, slot: slot, state: swarm.TaskStatePending, desired: swarm.TaskStateReady, created: created, since: created}
	}
	tests := []struct {
		name     string
		obs      Observation
		target   Target
		policy   Policy
		now      time.Duration
		phase    Phase
		reason   Reason
		running  int
		desired  int
		stableAt time.Duration
		message  []string // substrings of the verdict message
	}{
		{
			name:    "replicated: up-to-date tasks stable for the monitor period",
			obs:     observation(service(), oneNode, running("a", 1, 0), running("b", 2, 200*time.Millisecond)),
			target:  applied,
			now:     2 * time.Second,
			phase:   PhaseConverged,
			running: 2, desired: 2,
		},
		{
			name:    "replicated: running but not yet for the window",
			obs:     observation(service(), oneNode, running("a", 1, 0), running("b", 2, 200*time.Millisecond)),
			target:  applied,
			now:     500 * time.Millisecond,
			phase:   PhaseStabilising,
			running: 2, desired: 2,
			stableAt: 1200 * time.Millisecond,
		},
		{
			name:    "replicated: a stale-spec task does not count",
			obs:     observation(service(), oneNode, running("a", 1, 0), tk{id: "old", slot: 2, state: swarm.TaskStateRunning, stale: true}),
			target:  applied,
			now:     10 * time.Second,
			phase:   PhaseConverging,
			running: 1, desired: 2,
			message: []string{"1/2 running", "no task"},
		},
		{
			name: "replicated: stale task still meant to run (start-first swap)",
			obs: observation(service(), oneNode, running("a", 1, 0), running("b", 2, 0),
				tk{id: "old", slot: 2, state: swarm.TaskStateRunning, stale: true, created: -time.Minute}),
			target:  applied,
			now:     10 * time.Second,
			phase:   PhaseConverging,
			running: 2, desired: 2,
			message: []string{"previous spec still to stop"},
		},
		{
			name: "replicated: right after the apply only old tasks exist",
			obs: observation(service(), oneNode,
				tk{id: "old1", slot: 1, state: swarm.TaskStateRunning, stale: true, created: -time.Minute},
				tk{id: "old2", slot: 2, state: swarm.TaskStateRunning, stale: true, created: -time.Minute}),
			target:  applied,
			now:     time.Second,
			phase:   PhasePending,
			desired: 2,
		},
		{
			name:    "replicated: task on a down node does not count",
			obs:     observation(service(replicas(1)), []swarm.Node{node("n1", swarm.NodeStateDown, swarm.NodeAvailabilityActive)}, running("a", 1, 0)),
			target:  applied,
			now:     10 * time.Second,
			phase:   PhaseConverging,
			running: 0, desired: 1,
		},
		{
			name:    "replicated: task on a drained node does not count",
			obs:     observation(service(replicas(1)), []swarm.Node{node("n1", swarm.NodeStateReady, swarm.NodeAvailabilityDrain)}, running("a", 1, 0)),
			target:  applied,
			now:     10 * time.Second,
			phase:   PhaseConverging,
			running: 0, desired: 1,
		},
		{
			name:    "replicated: zero replicas converge at once",
			obs:     observation(service(replicas(0)), oneNode),
			target:  applied,
			now:     0,
			phase:   PhaseConverged,
			running: 0, desired: 0,
		},
		{
			name:    "replicated: a new service without tasks is pending",
			obs:     observation(service(), oneNode),
			target:  created,
			now:     0,
			phase:   PhasePending,
			desired: 2,
		},
		{
			name: "global: one task per ready active node",
			obs: observation(service(global()), []swarm.Node{
				node("n1", swarm.NodeStateReady, swarm.NodeAvailabilityActive),
				node("n2", swarm.NodeStateReady, swarm.NodeAvailabilityActive),
				node("n3", swarm.NodeStateReady, swarm.NodeAvailabilityActive),
			}, tk{id: "a", node: "n1", state: swarm.TaskStateRunning}, tk{id: "b", node: "n2", state: swarm.TaskStateRunning}),
			target:  applied,
			now:     10 * time.Second,
			phase:   PhaseConverging,
			running: 2, desired: 3,
			message: []string{"node n3: no task yet"},
		},
		{
			name: "global: drained and down nodes are not eligible",
			obs: observation(service(global()), []swarm.Node{
				node("n1", swarm.NodeStateReady, swarm.NodeAvailabilityActive),
				node("n2", swarm.NodeStateReady, swarm.NodeAvailabilityDrain),
				node("n3", swarm.NodeStateDown, swarm.NodeAvailabilityActive),
			}, tk{id: "a", node: "n1", state: swarm.TaskStateRunning}),
			target:  applied,
			now:     10 * time.Second,
			phase:   PhaseConverged,
			running: 1, desired: 1,
		},
		{
			name: "global with constraints: the nodes holding current tasks",
			obs: observation(service(global(), constrained()), []swarm.Node{
				node("n1", swarm.NodeStateReady, swarm.NodeAvailabilityActive),
				node("n2", swarm.NodeStateReady, swarm.NodeAvailabilityActive),
			}, tk{id: "a", node: "n2", state: swarm.TaskStateRunning}),
			target:  applied,
			now:     10 * time.Second,
			phase:   PhaseConverged,
			running: 1, desired: 1,
		},
		{
			name: "global with constraints and no task yet is pending",
			obs: observation(service(global(), constrained()), oneNode,
				tk{id: "old", node: "n1", state: swarm.TaskStateRunning, stale: true}),
			target: applied,
			now:    10 * time.Second,
			phase:  PhasePending,
		},
		{
			name: "replicated job: all completions of the current iteration",
			obs: observation(service(replicatedJob(2, 7)), oneNode,
				tk{id: "a", slot: 0, state: swarm.TaskStateComplete, desired: swarm.TaskStateComplete, iter: 7},
				tk{id: "b", slot: 1, state: swarm.TaskStateComplete, desired: swarm.TaskStateComplete, iter: 7}),
			target:  applied,
			now:     0,
			phase:   PhaseConverged,
			running: 2, desired: 2,
		},
		{
			name: "replicated job: an earlier iteration's completions do not count",
			obs: observation(service(replicatedJob(1, 7)), oneNode,
				tk{id: "a", slot: 0, state: swarm.TaskStateComplete, desired: swarm.TaskStateComplete, iter: 6},
				tk{id: "b", slot: 0, state: swarm.TaskStateRunning, desired: swarm.TaskStateComplete, iter: 7, created: time.Second}),
			target:  applied,
			now:     2 * time.Second,
			phase:   PhaseConverging,
			running: 0, desired: 1,
		},
		{
			name: "replicated job: a failed task that will not restart",
			obs: observation(service(replicatedJob(1, 7)), oneNode,
				tk{id: "a", slot: 0, state: swarm.TaskStateFailed, desired: swarm.TaskStateComplete, iter: 7, err: "task: non-zero exit (4)", restart: restartNone}),
			target:  applied,
			now:     time.Second,
			phase:   PhaseFailed,
			reason:  TaskFailed,
			message: []string{"will not be restarted", "non-zero exit (4)"},
		},
		{
			name: "global job: every node's task completed",
			obs: observation(service(globalJob(3)), oneNode,
				tk{id: "a", node: "n1", state: swarm.TaskStateComplete, desired: swarm.TaskStateComplete, iter: 3},
				tk{id: "b", node: "n2", state: swarm.TaskStateComplete, desired: swarm.TaskStateComplete, iter: 3}),
			target:  applied,
			now:     0,
			phase:   PhaseConverged,
			running: 2, desired: 2,
		},
		{
			name: "global job: one node still running",
			obs: observation(service(globalJob(3)), oneNode,
				tk{id: "a", node: "n1", state: swarm.TaskStateComplete, desired: swarm.TaskStateComplete, iter: 3},
				tk{id: "b", node: "n2", state: swarm.TaskStateRunning, desired: swarm.TaskStateComplete, iter: 3}),
			target:  applied,
			now:     0,
			phase:   PhaseConverging,
			running: 1, desired: 2,
		},
		{
			name:    "healthcheck: starting is not running",
			obs:     observation(service(replicas(1), healthchecked(200*time.Millisecond)), oneNode, tk{id: "a", slot: 1, state: swarm.TaskStateStarting}),
			target:  applied,
			now:     10 * time.Second,
			phase:   PhaseConverging,
			running: 0, desired: 1,
			message: []string{"health: starting"},
		},
		{
			name:    "healthcheck: healthy shortens the window by the interval",
			obs:     observation(service(replicas(1), healthchecked(200*time.Millisecond)), oneNode, running("a", 1, 0)),
			target:  applied,
			now:     500 * time.Millisecond,
			phase:   PhaseStabilising,
			running: 1, desired: 1,
			stableAt: 800 * time.Millisecond,
		},
		{
			name:    "healthcheck: with the default interval, healthy is enough",
			obs:     observation(service(replicas(1), healthchecked(0)), oneNode, running("a", 1, 0)),
			target:  applied,
			now:     0,
			phase:   PhaseConverged,
			running: 1, desired: 1,
		},
		{
			name: "crash loop: running for a moment proves nothing",
			obs: observation(service(replicas(1)), oneNode,
				crashed("a", 1, 0), running("b", 1, 2*time.Second)),
			target:  applied,
			now:     2200 * time.Millisecond,
			phase:   PhaseStabilising,
			running: 1, desired: 1,
			stableAt: 3 * time.Second,
		},
		{
			name: "crash loop: below DefaultMaxFailures the wait goes on, naming the last error",
			obs: observation(service(replicas(1)), oneNode,
				crashed("a", 1, 0), crashed("b", 1, time.Second), waiting("c", 1, 2*time.Second)),
			target:  applied,
			now:     3 * time.Second,
			phase:   PhaseConverging,
			running: 0, desired: 1,
			message: []string{"previous task b failed: task: non-zero exit (1)"},
		},
		{
			name: "crash loop: MaxFailures consecutive failures fail the service",
			obs: observation(service(replicas(1)), oneNode,
				crashed("a", 1, 0), crashed("b", 1, time.Second), crashed("c", 1, 2*time.Second), waiting("d", 1, 3*time.Second)),
			target:  applied,
			policy:  Policy{MaxFailures: 3},
			now:     4 * time.Second,
			phase:   PhaseFailed,
			reason:  TaskFailed,
			message: []string{"task c (image app:2) failed 3 time(s) in a row: task: non-zero exit (1)"},
		},
		{
			name: "crash loop: DefaultMaxFailures consecutive failures",
			obs: observation(service(replicas(1)), oneNode,
				crashed("b", 1, time.Second), crashed("c", 1, 2*time.Second),
				crashed("d", 1, 3*time.Second), crashed("e", 1, 4*time.Second), waiting("f", 1, 5*time.Second)),
			target:  applied,
			now:     6 * time.Second,
			phase:   PhaseFailed,
			reason:  TaskFailed,
			message: []string{"failed 4 time(s) in a row"},
		},
		{
			name: "crash loop: failures before a stable run are history",
			obs: observation(service(replicas(1)), oneNode,
				crashed("a", 1, 0), crashed("b", 1, time.Second), crashed("c", 1, 2*time.Second), running("d", 1, 3*time.Second)),
			target:  applied,
			now:     5 * time.Second,
			phase:   PhaseConverged,
			running: 1, desired: 1,
		},
		{
			name: "crash loop: negative MaxFailures waits for the bound",
			obs: observation(service(replicas(1)), oneNode,
				crashed("a", 1, 0), crashed("b", 1, time.Second), crashed("c", 1, 2*time.Second), waiting("d", 1, 3*time.Second)),
			target:  applied,
			policy:  Policy{MaxFailures: -1},
			now:     4 * time.Second,
			phase:   PhaseConverging,
			desired: 1,
		},
		{
			name: "restart policy none: the first failure is final",
			obs: observation(service(replicas(1)), oneNode,
				tk{id: "a", slot: 1, state: swarm.TaskStateFailed, err: "task: non-zero exit (2)", restart: restartNone}),
			target:  applied,
			now:     time.Second,
			phase:   PhaseFailed,
			reason:  TaskFailed,
			message: []string{"will not be restarted"},
		},
		{
			name: "restart policy max attempts exhausted",
			obs: observation(service(replicas(1)), oneNode,
				tk{id: "a", slot: 1, state: swarm.TaskStateFailed, desired: swarm.TaskStateShutdown, created: 0, restart: restartTwice},
				tk{id: "b", slot: 1, state: swarm.TaskStateFailed, desired: swarm.TaskStateShutdown, created: time.Second, restart: restartTwice},
				tk{id: "c", slot: 1, state: swarm.TaskStateFailed, created: 2 * time.Second, restart: restartTwice}),
			target:  applied,
			policy:  Policy{MaxFailures: 10},
			now:     3 * time.Second,
			phase:   PhaseFailed,
			reason:  TaskFailed,
			message: []string{"will not be restarted"},
		},
		{
			name: "a service task that exits 0 under on-failure is not running",
			obs: observation(service(replicas(1)), oneNode,
				tk{id: "a", slot: 1, state: swarm.TaskStateComplete, restart: restartOnFailure}),
			target:  applied,
			now:     time.Second,
			phase:   PhaseFailed,
			reason:  TaskFailed,
			message: []string{"exited (exit code 0) and will not be restarted"},
		},
		{
			name: "missing image: rejected task behind a waiting replacement",
			obs: observation(service(replicas(1)), oneNode,
				tk{id: "a", slot: 1, state: swarm.TaskStateRejected, desired: swarm.TaskStateShutdown, image: "app:missing", err: "No such image: app:missing"},
				waiting("b", 1, time.Second)),
			target:  applied,
			now:     time.Second,
			phase:   PhaseFailed,
			reason:  ImageNotFound,
			message: []string{"image app:missing not found", "No such image"},
		},
		{
			name: "other rejection",
			obs: observation(service(replicas(1)), oneNode,
				tk{id: "a", slot: 1, state: swarm.TaskStateRejected, err: `invalid mount config for type "bind": bind source path does not exist`}),
			target:  applied,
			now:     time.Second,
			phase:   PhaseFailed,
			reason:  TaskRejected,
			message: []string{"bind source path does not exist"},
		},
		{
			name: "update paused by this apply",
			obs: observation(service(replicas(1), updateState(swarm.UpdateStatePaused, "update paused due to failure or early termination of task c")), oneNode,
				tk{id: "old", slot: 1, state: swarm.TaskStateRunning, stale: true, created: -time.Minute},
				crashed("c", 1, 0)),
			target:  applied,
			now:     time.Second,
			phase:   PhaseFailed,
			reason:  UpdatePaused,
			message: []string{"paused", "non-zero exit (1)"},
		},
		{
			name: "rollback started by this apply",
			obs: observation(service(replicas(1), updateState(swarm.UpdateStateRollbackStarted, "update rolled back due to failure or early termination of task c")), oneNode,
				tk{id: "old", slot: 1, state: swarm.TaskStateRunning, created: -time.Minute, image: "app:1"},
				tk{id: "c", slot: 1, state: swarm.TaskStateFailed, desired: swarm.TaskStateShutdown, stale: true, image: "app:2", err: "task: non-zero exit (1)"}),
			target:  applied,
			now:     time.Second,
			phase:   PhaseFailed,
			reason:  RolledBack,
			message: []string{"rollback_started", "image app:2", "non-zero exit (1)"},
		},
		{
			name: "rollback completed: the message no longer names the task",
			obs: observation(service(replicas(1), func(s *swarm.Service) {
				started := at(0)
				s.UpdateStatus = &swarm.UpdateStatus{State: swarm.UpdateStateRollbackCompleted, Message: "rollback completed", StartedAt: &started}
			}), oneNode,
				tk{id: "older", slot: 1, state: swarm.TaskStateFailed, desired: swarm.TaskStateShutdown, created: -time.Hour, err: "task: non-zero exit (9)"},
				tk{id: "new", slot: 1, state: swarm.TaskStateFailed, desired: swarm.TaskStateShutdown, stale: true, image: "app:2", created: time.Second, err: "task: non-zero exit (1)"},
				tk{id: "old", slot: 1, state: swarm.TaskStateRunning, created: 2 * time.Second, since: 2 * time.Second, image: "app:1"}),
			target:  applied,
			now:     5 * time.Second,
			phase:   PhaseFailed,
			reason:  RolledBack,
			message: []string{"rollback completed (task new, image app:2, failed: task: non-zero exit (1))"},
		},
		{
			name: "rollback completed after this apply, old tasks running again",
			obs: observation(service(replicas(1), updateState(swarm.UpdateStateRollbackCompleted, "rollback completed")), oneNode,
				tk{id: "old", slot: 1, state: swarm.TaskStateRunning, created: -time.Minute, since: -time.Minute}),
			target: applied,
			now:    time.Minute,
			phase:  PhaseFailed,
			reason: RolledBack,
		},
		{
			name: "stale rollback on a service this apply left alone",
			obs: observation(service(replicas(1), updateState(swarm.UpdateStateRollbackCompleted, "rollback completed")), oneNode,
				running("old", 1, -time.Minute)),
			target:  kept,
			now:     0,
			phase:   PhaseConverged,
			running: 1, desired: 1,
		},
		{
			name: "stale paused state from before the recorded version",
			obs: observation(service(replicas(1), updateState(swarm.UpdateStatePaused, "update paused")), oneNode,
				running("a", 1, -time.Minute)),
			target:  Target{ServiceID: "svc1", Name: "app", PrevVersion: 10, Changed: true},
			now:     0,
			phase:   PhaseConverged,
			running: 1, desired: 1,
		},
		{
			name:    "a fixed window overrides the monitor period",
			obs:     observation(service(replicas(1)), oneNode, running("a", 1, 0)),
			target:  applied,
			policy:  Policy{Window: 3 * time.Second},
			now:     2 * time.Second,
			phase:   PhaseStabilising,
			running: 1, desired: 1, stableAt: 3 * time.Second,
		},
		{
			name:    "a negative window: running is enough",
			obs:     observation(service(replicas(1)), oneNode, running("a", 1, 0)),
			target:  applied,
			policy:  Policy{Window: -1},
			now:     0,
			phase:   PhaseConverged,
			running: 1, desired: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge(tt.obs, tt.target, tt.policy, at(tt.now))
			if v.Phase != tt.phase || v.Reason != tt.reason {
				t.Fatalf("phase %s reason %q, want %s %q (message %q)", v.Phase, v.Reason, tt.phase, tt.reason, v.Message)
			}
			if tt.phase != PhaseFailed && tt.phase != PhasePending && (v.Running != tt.running || v.Desired != tt.desired) {
				t.Errorf("running %d/%d, want %d/%d", v.Running, v.Desired, tt.running, tt.desired)
			}
			if tt.phase == PhasePending && v.Desired != tt.desired {
				t.Errorf("desired %d, want %d", v.Desired, tt.desired)
			}
			if tt.phase == PhaseStabilising && !v.StableAt.Equal(at(tt.stableAt)) {
				t.Errorf("stable at %s, want %s", v.StableAt.Sub(t0), tt.stableAt)
			}
			for _, s := range tt.message {
				if !strings.Contains(v.Message, s) {
					t.Errorf("message %q does not contain %q", v.Message, s)
				}
			}
		})
	}
}

func TestJudgeHealthLoopFromEvents(t *testing.T) {
	// The engine records a task killed as unhealthy as "complete", exit 0: only the node's
	// health_status events tell it from a clean exit.
	ended := func(id string, created time.Duration) tk {
		return tk{id: id, slot: 1, state: swarm.TaskStateComplete, desired: swarm.TaskStateShutdown, created: created}
	}
	tests := []struct {
		name   string
		health map[string]string
		reason Reason
	}{
		{name: "unhealthy events", health: map[string]string{"c-b": "unhealthy"}, reason: Unhealthy},
		{name: "no events", health: map[string]string{}, reason: TaskFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := observation(service(replicas(1), healthchecked(200*time.Millisecond)), oneNode,
				ended("a", 0), ended("b", time.Second), tk{id: "c", slot: 1, state: swarm.TaskStateStarting, created: 2 * time.Second})
			o.Health = tt.health
			v := Judge(o, applied, Policy{MaxFailures: 2}, at(3*time.Second))
			if v.Phase != PhaseFailed || v.Reason != tt.reason {
				t.Fatalf("phase %s reason %s, want Failed %s (%s)", v.Phase, v.Reason, tt.reason, v.Message)
			}
			if !strings.Contains(v.Message, "exited (exit code 0) 2 time(s) in a row") {
				t.Errorf("message %q does not count the exits", v.Message)
			}
		})
	}
}

func TestStabilityWindow(t *testing.T) {
	tests := []struct {
		name string
		svc  swarm.Service
		want time.Duration
	}{
		{"service monitor", service(), time.Second},
		{"engine default monitor", service(func(s *swarm.Service) { s.Spec.UpdateConfig = nil }), DefaultMonitor},
		{"healthcheck interval counts towards the window", service(healthchecked(200 * time.Millisecond)), 800 * time.Millisecond},
		{"healthcheck with the default interval", service(healthchecked(0)), 0},
		{"disabled healthcheck", service(func(s *swarm.Service) {
			s.Spec.TaskTemplate.ContainerSpec.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
		}), time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StabilityWindow(tt.svc); got != tt.want {
				t.Errorf("window %s, want %s", got, tt.want)
			}
		})
	}
}
