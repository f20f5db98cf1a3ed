package fake_test

import (
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/fake"
)

// TestRolloutWaitsForTheMonitorPeriod: the update reads updating until every slot runs the
// new spec for the monitor period (5 s by default), then completed.
func TestRolloutWaitsForTheMonitorPeriod(t *testing.T) {
	f, clk := newClocked(t)
	spec := svcSpec("web", probe1)
	spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: ptr(uint64(2))}
	id := mustCreate(t, f, spec)
	s := mustInspect(t, f, id)
	s.Spec.TaskTemplate.ContainerSpec.Image = probe2
	mustUpdate(t, f, s)
	got := mustInspect(t, f, id)
	if got.UpdateStatus == nil || got.UpdateStatus.State != swarm.UpdateStateUpdating || got.UpdateStatus.Message != "update in progress" {
		t.Fatalf("right after the update: %+v", got.UpdateStatus)
	}
	if got.Version.Index <= s.Version.Index || got.PreviousSpec.TaskTemplate.ContainerSpec.Image != probe1 {
		t.Errorf("version %d -> %d, previous %+v", s.Version.Index, got.Version.Index, got.PreviousSpec)
	}
	running := 0
	for _, tk := range tasksOf(t, f, id) {
		if tk.Status.State == swarm.TaskStateRunning {
			running++
			if tk.Spec.ContainerSpec.Image != probe2 {
				t.Errorf("old task still running: %+v", tk)
			}
		}
	}
	if running != 2 {
		t.Errorf("running tasks: %d", running)
	}
	clk.Advance(4 * time.Second)
	if st := updateState(t, f, id); st != swarm.UpdateStateUpdating {
		t.Fatalf("before the monitor period: %s", st)
	}
	clk.Advance(time.Second)
	if st := updateState(t, f, id); st != swarm.UpdateStateCompleted {
		t.Fatalf("after the monitor period: %s", st)
	}
}

func TestFastRolloutsSkipTheMonitor(t *testing.T) {
	f := fake.New(fake.Options{FastRollouts: true, Images: []string{probe1, probe2}})
	id := mustCreate(t, f, svcSpec("web", probe1))
	s := mustInspect(t, f, id)
	s.Spec.TaskTemplate.ContainerSpec.Image = probe2
	mustUpdate(t, f, s)
	if st := updateState(t, f, id); st != swarm.UpdateStateCompleted {
		t.Errorf("fast rollout: %s", st)
	}
}

// TestRolloutStopFirstOneAtATime: with parallelism 1 and stop-first, at most one slot is
// being replaced at any step, and its old task is down before the new one starts.
func TestRolloutStopFirstOneAtATime(t *testing.T) {
	f, _ := newManual(t)
	spec := svcSpec("web", probe1)
	spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: ptr(uint64(3))}
	spec.UpdateConfig = &swarm.UpdateConfig{Parallelism: 1}
	id := mustCreate(t, f, spec)
	f.Settle()
	s := mustInspect(t, f, id)
	s.Spec.TaskTemplate.ContainerSpec.Image = probe2
	mustUpdate(t, f, s)
	for f.Step() {
		live := map[int]int{}
		notRunning := 0
		for _, tk := range tasksOf(t, f, id) {
			if tk.DesiredState != swarm.TaskStateShutdown && tk.Status.State == swarm.TaskStateRunning {
				live[tk.Slot]++
			}
			if tk.Spec.ContainerSpec.Image == probe2 && tk.Status.State != swarm.TaskStateRunning {
				notRunning++
			}
		}
		for slot, n := range live {
			if n > 1 {
				t.Fatalf("slot %d runs %d tasks at once under stop-first", slot, n)
			}
		}
		if notRunning > 1 {
			t.Fatalf("%d slots replaced at once with parallelism 1", notRunning)
		}
	}
}

func TestRolloutStartFirstOverlaps(t *testing.T) {
	f, _ := newManual(t)
	spec := svcSpec("web", probe1)
	spec.UpdateConfig = &swarm.UpdateConfig{Parallelism: 1, Order: swarm.UpdateOrderStartFirst}
	id := mustCreate(t, f, spec)
	f.Settle()
	s := mustInspect(t, f, id)
	s.Spec.TaskTemplate.ContainerSpec.Image = probe2
	mustUpdate(t, f, s)
	overlap := false
	for f.Step() {
		running := 0
		for _, tk := range tasksOf(t, f, id) {
			if tk.Status.State == swarm.TaskStateRunning {
				running++
			}
		}
		overlap = overlap || running == 2
	}
	if !overlap {
		t.Errorf("start-first never ran old and new together")
	}
	ts := tasksOf(t, f, id)
	if ts[0].Status.State != swarm.TaskStateShutdown || ts[1].Status.State != swarm.TaskStateRunning {
		t.Errorf("after start-first: %v", states(ts))
	}
}

func TestRolloutFailureRollsBack(t *testing.T) {
	f, clk := newManual(t)
	f.CrashImage(probe2, 1)
	spec := svcSpec("web", probe1)
	spec.UpdateConfig = &swarm.UpdateConfig{FailureAction: swarm.UpdateFailureActionRollback}
	id := mustCreate(t, f, spec)
	f.Settle()
	s := mustInspect(t, f, id)
	s.Spec.TaskTemplate.ContainerSpec.Image = probe2
	mustUpdate(t, f, s)
	for st := updateState(t, f, id); (st == "" || st == swarm.UpdateStateUpdating) && f.Step(); st = updateState(t, f, id) {
	}
	got := mustInspect(t, f, id)
	if got.UpdateStatus == nil || got.UpdateStatus.State != swarm.UpdateStateRollbackStarted ||
		!strings.HasPrefix(got.UpdateStatus.Message, "update rolled back due to failure or early termination of task") {
		t.Fatalf("after the failure: %+v", got.UpdateStatus)
	}
	if img := got.Spec.TaskTemplate.ContainerSpec.Image; img != probe1 || got.PreviousSpec != nil {
		t.Errorf("rolled back spec: image %s, previous %v", img, got.PreviousSpec)
	}
	f.Settle()
	got = mustInspect(t, f, id)
	if got.UpdateStatus.State != swarm.UpdateStateRollbackCompleted || got.UpdateStatus.Message != "rollback completed" {
		t.Errorf("rollback end: %+v", got.UpdateStatus)
	}
	// The restored task may still wait out the restart delay of the task it replaces.
	clk.Advance(5 * time.Second)
	f.Settle()
	ts := tasksOf(t, f, id)
	if last := ts[len(ts)-1]; last.Spec.ContainerSpec.Image != probe1 || last.Status.State != swarm.TaskStateRunning {
		t.Errorf("after rollback: %+v", last)
	}
}

func TestRolloutFailurePausesByDefault(t *testing.T) {
	f, clk := newClocked(t)
	f.CrashImage(probe2, 1)
	id := mustCreate(t, f, svcSpec("web", probe1))
	s := mustInspect(t, f, id)
	s.Spec.TaskTemplate.ContainerSpec.Image = probe2
	mustUpdate(t, f, s)
	clk.Advance(time.Minute)
	got := mustInspect(t, f, id)
	if got.UpdateStatus == nil || got.UpdateStatus.State != swarm.UpdateStatePaused || got.Spec.TaskTemplate.ContainerSpec.Image != probe2 || got.PreviousSpec == nil {
		t.Errorf("paused: %+v, image %s", got.UpdateStatus, got.Spec.TaskTemplate.ContainerSpec.Image)
	}
	// It keeps crash-looping on the new spec.
	failed := 0
	for _, tk := range tasksOf(t, f, id) {
		if tk.Status.State == swarm.TaskStateFailed && tk.Spec.ContainerSpec.Image == probe2 {
			failed++
		}
	}
	if failed < 3 {
		t.Errorf("paused service does not crash-loop: %d failures", failed)
	}
	// A new update resets the status and rolls out again.
	s = mustInspect(t, f, id)
	s.Spec.TaskTemplate.ContainerSpec.Image = probe1
	mustUpdate(t, f, s)
	if st := updateState(t, f, id); st != swarm.UpdateStateUpdating {
		t.Errorf("after a fresh update: %s", st)
	}
}

func TestManualRollbackToPreviousSpec(t *testing.T) {
	f, _ := newClocked(t)
	id := mustCreate(t, f, svcSpec("web", probe1))
	s := mustInspect(t, f, id)
	if _, err := f.ServiceUpdate(t.Context(), id, s.Version, s.Spec, swarm.ServiceUpdateOptions{Rollback: "previous"}); err == nil {
		t.Errorf("rollback without a previous spec succeeded")
	}
	s.Spec.TaskTemplate.ContainerSpec.Image = probe2
	mustUpdate(t, f, s)
	s = mustInspect(t, f, id)
	if _, err := f.ServiceUpdate(t.Context(), id, s.Version, s.Spec, swarm.ServiceUpdateOptions{Rollback: "previous"}); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	got := mustInspect(t, f, id)
	if got.Spec.TaskTemplate.ContainerSpec.Image != probe1 || got.UpdateStatus == nil || got.UpdateStatus.State != swarm.UpdateStateRollbackCompleted {
		t.Errorf("after rollback: image %s, %+v", got.Spec.TaskTemplate.ContainerSpec.Image, got.UpdateStatus)
	}
}

// TestForceUpdateRestartsTasks: bumping ForceUpdate is a task template change, the way to
// restart tasks of an image rebuilt under the same tag.
func TestForceUpdateRestartsTasks(t *testing.T) {
	f, _ := newClocked(t)
	id := mustCreate(t, f, svcSpec("web", probe1))
	before := tasksOf(t, f, id)[0].ID
	s := mustInspect(t, f, id)
	s.Spec.TaskTemplate.ForceUpdate++
	mustUpdate(t, f, s)
	ts := tasksOf(t, f, id)
	if len(ts) != 2 || ts[0].ID != before || ts[0].Status.State != swarm.TaskStateShutdown || ts[1].Status.State != swarm.TaskStateRunning {
		t.Errorf("after force update: %v", states(ts))
	}
}

// TestUpdateStatusWindow: right after an update the status reads nil and the old task still
// runs, until the updater's first step, as on the engine.
func TestUpdateStatusWindow(t *testing.T) {
	f, _ := newManual(t)
	id := mustCreate(t, f, svcSpec("web", probe1))
	f.Settle()
	s := mustInspect(t, f, id)
	s.Spec.TaskTemplate.ContainerSpec.Image = probe2
	mustUpdate(t, f, s)
	if us := mustInspect(t, f, id).UpdateStatus; us != nil {
		t.Fatalf("status right after the update: %+v", us)
	}
	if ts := tasksOf(t, f, id); len(ts) != 1 || ts[0].Status.State != swarm.TaskStateRunning {
		t.Fatalf("tasks right after the update: %v", states(ts))
	}
	f.Step()
	if st := updateState(t, f, id); st != swarm.UpdateStateUpdating {
		t.Errorf("after one step: %q", st)
	}
}
