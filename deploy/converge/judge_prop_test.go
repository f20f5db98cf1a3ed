package converge

import (
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"pgregory.net/rapid"
)

// Running and desired running dominate the draws, so that converged verdicts are common.
var taskStates = []swarm.TaskState{
	swarm.TaskStateRunning, swarm.TaskStateRunning, swarm.TaskStateRunning, swarm.TaskStateRunning, swarm.TaskStateRunning,
	swarm.TaskStateNew, swarm.TaskStatePending, swarm.TaskStateAssigned, swarm.TaskStatePreparing,
	swarm.TaskStateReady, swarm.TaskStateStarting, swarm.TaskStateRunning, swarm.TaskStateComplete,
	swarm.TaskStateShutdown, swarm.TaskStateFailed, swarm.TaskStateRejected,
}

var desiredStates = []swarm.TaskState{swarm.TaskStateReady, swarm.TaskStateRunning, swarm.TaskStateRunning, swarm.TaskStateRunning, swarm.TaskStateShutdown}

// drawObservation draws a replicated service with a random task history: current and stale
// tasks in random states, slots, creation times and nodes (one of them down).
func drawObservation(t *rapid.T) (Observation, Target, time.Time) {
	n := rapid.Uint64Range(0, 3).Draw(t, "replicas")
	svc := service(replicas(n))
	if rapid.Bool().Draw(t, "healthcheck") {
		svc = service(replicas(n), healthchecked(time.Duration(rapid.IntRange(0, 2000).Draw(t, "interval"))*time.Millisecond))
	}
	nodes := []swarm.Node{
		node("n1", swarm.NodeStateReady, swarm.NodeAvailabilityActive),
		node("n2", swarm.NodeStateDown, swarm.NodeAvailabilityActive),
	}
	var tasks []tk
	for i := range rapid.IntRange(0, 8).Draw(t, "tasks") {
		tasks = append(tasks, tk{
			id:      fmt.Sprintf("t%d", i),
			slot:    rapid.IntRange(1, 3).Draw(t, "slot"),
			node:    rapid.SampledFrom([]string{"n1", "n1", "n1", "n2"}).Draw(t, "node"),
			state:   rapid.SampledFrom(taskStates).Draw(t, "state"),
			desired: rapid.SampledFrom(desiredStates).Draw(t, "desired"),
			created: time.Duration(rapid.IntRange(0, 5).Draw(t, "created")) * time.Second,
			since:   time.Duration(rapid.IntRange(0, 10).Draw(t, "since")) * time.Second,
			stale:   rapid.IntRange(0, 3).Draw(t, "stale") == 0,
			err:     rapid.SampledFrom([]string{"", "task: non-zero exit (1)", "No such image: app:2"}).Draw(t, "err"),
		})
	}
	now := at(time.Duration(rapid.IntRange(0, 20).Draw(t, "now")) * time.Second)
	return observation(svc, nodes, tasks...), applied, now
}

// TestJudgeConvergedMeansNewestCurrentTasksRunStable checks the promise behind Converged on
// random histories: every replica's newest current task runs on a usable node and has run for
// the window, and nothing of the previous spec is still meant to run.
func TestJudgeConvergedMeansNewestCurrentTasksRunStable(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o, target, now := drawObservation(t)
		v := Judge(o, target, Policy{}, now)
		if v.Phase != PhaseConverged || *o.Service.Spec.Mode.Replicated.Replicas == 0 {
			return
		}
		want := int(*o.Service.Spec.Mode.Replicated.Replicas)
		newest := map[int]swarm.Task{}
		for _, task := range o.Tasks {
			if !o.UpToDate[task.ID] {
				if task.DesiredState == swarm.TaskStateRunning || task.DesiredState == swarm.TaskStateReady {
					t.Fatalf("converged while stale task %s is desired %s", task.ID, task.DesiredState)
				}
				continue
			}
			if cur, ok := newest[task.Slot]; !ok || task.CreatedAt.After(cur.CreatedAt) ||
				(task.CreatedAt.Equal(cur.CreatedAt) && task.ID < cur.ID) {
				newest[task.Slot] = task
			}
		}
		running := 0
		for _, task := range newest {
			if task.Status.State == swarm.TaskStateRunning && task.DesiredState == swarm.TaskStateRunning && task.NodeID == "n1" {
				running++
				if now.Sub(task.Status.Timestamp) < StabilityWindow(o.Service) {
					t.Fatalf("converged with task %s running only since %s", task.ID, task.Status.Timestamp.Sub(t0))
				}
			}
		}
		if running != want {
			t.Fatalf("converged with %d of %d replicas running (verdict %d)", running, want, v.Running)
		}
	})
}

// TestJudgeIgnoresTaskOrder: the engine lists tasks in no promised order.
func TestJudgeIgnoresTaskOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o, target, now := drawObservation(t)
		v := Judge(o, target, Policy{}, now)
		shuffled := o
		shuffled.Tasks = rapid.Permutation(o.Tasks).Draw(t, "order")
		w := Judge(shuffled, target, Policy{}, now)
		if v.Phase != w.Phase || v.Reason != w.Reason || v.Running != w.Running || v.Message != w.Message {
			t.Fatalf("verdict depends on task order: %+v vs %+v", v, w)
		}
	})
}
