package enginetest

import (
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

func rolloutCases() []testCase {
	return []testCase{
		{"RolloutImageUpdate", testRolloutImage},
		{"RolloutFailureRollsBack", testRolloutRollback},
		{"RolloutFailurePauses", testRolloutPause},
		{"RolloutStartFirst", testRolloutStartFirst},
	}
}

// monitor keeps rollouts short; the engine's default is 5 s.
const monitor = 500 * time.Millisecond

// failureMonitor is the monitor of the rollouts that must fail: long enough that a task which
// crashes 100 ms after it starts is seen failing within it on a loaded machine, where the
// engine may take a while to record the exit.
const failureMonitor = 3 * time.Second

// testRolloutImage: a task template change replaces the task of each slot and the update
// state goes updating, then completed after the monitor period.
func testRolloutImage(h *harness) {
	spec := h.spec("roll", h.env.Image)
	spec.UpdateConfig = &swarm.UpdateConfig{Parallelism: 1, Monitor: monitor}
	id := h.create(spec)
	old := h.waitRunning(id, 1)[1]
	s := h.inspect(id)
	s.Spec.TaskTemplate.ContainerSpec.Image = h.env.Image2
	h.update(s)
	after := h.inspect(id)
	if after.PreviousSpec == nil || after.PreviousSpec.TaskTemplate.ContainerSpec.Image != h.env.Image {
		h.t.Errorf("previous spec: %+v", after.PreviousSpec)
	}
	if us := after.UpdateStatus; us != nil && us.State != swarm.UpdateStateUpdating && us.State != swarm.UpdateStateCompleted {
		h.t.Errorf("update state right after the update: %+v", us)
	}
	h.eventually("update completed", func() (bool, string) {
		us := h.inspect(id).UpdateStatus
		if us == nil {
			return false, "no update status"
		}
		return us.State == swarm.UpdateStateCompleted, string(us.State) + ": " + us.Message
	})
	us := h.inspect(id).UpdateStatus
	if us.StartedAt == nil || us.CompletedAt == nil || us.Message != "update completed" {
		h.t.Errorf("completed status: %+v", us)
	}
	cur := h.waitRunning(id, 1)[1]
	if cur.ID == old.ID || cur.Spec.ContainerSpec.Image != h.env.Image2 {
		h.t.Errorf("slot 1 was not replaced: %s image %s", describe(cur), cur.Spec.ContainerSpec.Image)
	}
	for _, t := range h.tasks(id) {
		if t.ID == old.ID && (t.Status.State != swarm.TaskStateShutdown || t.DesiredState != swarm.TaskStateShutdown) {
			h.t.Errorf("old task not shut down: %s", describe(t))
		}
	}
}

// testRolloutRollback: with failure action rollback, a crashing update ends in
// rollback_completed with the previous spec restored.
func testRolloutRollback(h *harness) {
	spec := h.spec("rb", h.env.Image)
	spec.UpdateConfig = &swarm.UpdateConfig{Parallelism: 1, Monitor: failureMonitor, FailureAction: swarm.UpdateFailureActionRollback}
	id := h.create(spec)
	h.waitRunning(id, 1)
	s := h.inspect(id)
	orig := s.Spec.TaskTemplate.ContainerSpec.Args
	h.env.Crash(h.t, s.Spec.Name, s.Spec.TaskTemplate.ContainerSpec)
	h.update(s)
	h.eventually("rollback completed", func() (bool, string) {
		us := h.inspect(id).UpdateStatus
		if us == nil {
			return false, "no update status"
		}
		return us.State == swarm.UpdateStateRollbackCompleted, string(us.State) + ": " + us.Message
	})
	got := h.inspect(id)
	if strings.Join(got.Spec.TaskTemplate.ContainerSpec.Args, " ") != strings.Join(orig, " ") {
		h.t.Errorf("spec not rolled back: args %v", got.Spec.TaskTemplate.ContainerSpec.Args)
	}
	if got.UpdateStatus.Message != "rollback completed" || got.UpdateStatus.CompletedAt == nil {
		h.t.Errorf("rollback status: %+v", got.UpdateStatus)
	}
	h.waitRunning(id, 1)
}

// testRolloutPause: with the default failure action, a crashing update pauses and stays
// paused; the previous spec is kept.
func testRolloutPause(h *harness) {
	spec := h.spec("pause", h.env.Image)
	spec.UpdateConfig = &swarm.UpdateConfig{Parallelism: 1, Monitor: failureMonitor}
	id := h.create(spec)
	h.waitRunning(id, 1)
	s := h.inspect(id)
	h.env.Crash(h.t, s.Spec.Name, s.Spec.TaskTemplate.ContainerSpec)
	h.update(s)
	h.eventually("update paused", func() (bool, string) {
		us := h.inspect(id).UpdateStatus
		if us == nil {
			return false, "no update status"
		}
		return us.State == swarm.UpdateStatePaused, string(us.State) + ": " + us.Message
	})
	got := h.inspect(id)
	if !strings.HasPrefix(got.UpdateStatus.Message, "update paused due to failure or early termination of task") {
		h.t.Errorf("paused message: %q", got.UpdateStatus.Message)
	}
	if got.PreviousSpec == nil {
		h.t.Errorf("paused service lost its previous spec")
	}
	if len(got.Spec.TaskTemplate.ContainerSpec.Args) == 0 {
		h.t.Errorf("paused service reverted its spec")
	}
}

// testRolloutStartFirst: with order start-first, the new task runs before the old one is
// shut down.
func testRolloutStartFirst(h *harness) {
	spec := h.spec("sf", h.env.Image)
	spec.UpdateConfig = &swarm.UpdateConfig{Parallelism: 1, Monitor: monitor, Order: swarm.UpdateOrderStartFirst}
	id := h.create(spec)
	old := h.waitRunning(id, 1)[1]
	s := h.inspect(id)
	s.Spec.TaskTemplate.ContainerSpec.Image = h.env.Image2
	h.update(s)
	h.eventually("update completed", func() (bool, string) {
		us := h.inspect(id).UpdateStatus
		return us != nil && us.State == swarm.UpdateStateCompleted, fmt.Sprintf("%+v", us)
	})
	// The engine may report the update completed while the old task is still stopping.
	var oldT, newT swarm.Task
	h.eventually("old task shut down", func() (bool, string) {
		ts := h.tasks(id)
		for _, t := range ts {
			switch {
			case t.ID == old.ID:
				oldT = t
			case t.Spec.ContainerSpec.Image == h.env.Image2:
				newT = t
			}
		}
		return newT.Status.State == swarm.TaskStateRunning && oldT.Status.State == swarm.TaskStateShutdown, describeAll(ts)
	})
	// The old task was shut down after the new one started.
	if oldT.Status.Timestamp.Before(newT.CreatedAt) {
		h.t.Errorf("old task stopped at %s, before its replacement was created at %s", oldT.Status.Timestamp, newT.CreatedAt)
	}
}
