package converge

import (
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/swarm"
)

type groupFailure struct {
	reason  Reason
	message string
	task    swarm.Task
}

// groupFailure decides whether the tasks of one slot (or node), newest first, show a failure
// that a wait must not sit out: a rejection (the engine retries it forever), a task the engine
// will not restart, or MaxFailures consecutive failures (a crash or health loop).
func (j judging) groupFailure(tasks []swarm.Task, job bool) (groupFailure, bool) {
	failures := 0
	var last *swarm.Task
	for i := range tasks {
		tk := &tasks[i]
		if preRunning(tk.Status.State) {
			// A replacement waiting for its restart delay; the history behind it decides.
			continue
		}
		if !ended(tk.Status.State, job) {
			break
		}
		if last == nil {
			last = tk
		}
		failures++
	}
	if last == nil {
		return groupFailure{}, false
	}
	newest := tasks[0]
	image := imageOf(*last)
	if isImageError(last.Status.Err) {
		return groupFailure{ImageNotFound, fmt.Sprintf("image %s not found: task %s %s: %s", image, shortID(last.ID), last.Status.State, taskErr(*last)), *last}, true
	}
	if last.Status.State == swarm.TaskStateRejected {
		return groupFailure{TaskRejected, fmt.Sprintf("task %s rejected: %s", shortID(last.ID), taskErr(*last)), *last}, true
	}
	maxFailures := j.p.MaxFailures
	if maxFailures == 0 {
		maxFailures = DefaultMaxFailures
	}
	completed := last.Status.State == swarm.TaskStateComplete
	gaveUp := last.ID == newest.ID && !willRestart(restartCondition(*last), *last, completed, failures)
	if !gaveUp && (maxFailures < 0 || failures < maxFailures) {
		return groupFailure{}, false
	}
	what := "failed"
	if completed {
		what = fmt.Sprintf("exited (%s)", describeExit(*last))
	}
	how := fmt.Sprintf("%s %d time(s) in a row", what, failures)
	if gaveUp {
		how = what + " and will not be restarted"
	}
	if j.unhealthy(*last) {
		return groupFailure{Unhealthy, fmt.Sprintf("task %s (image %s) %s (health: unhealthy): %s", shortID(last.ID), image, how, taskErr(*last)), *last}, true
	}
	return groupFailure{TaskFailed, fmt.Sprintf("task %s (image %s) %s: %s", shortID(last.ID), image, how, taskErr(*last)), *last}, true
}

// ended reports whether a task stopped on its own: failed, rejected or, for a service that
// should run until stopped, completed. The engine marks tasks it stops itself "shutdown".
func ended(s swarm.TaskState, job bool) bool {
	return s == swarm.TaskStateFailed || s == swarm.TaskStateRejected || (!job && s == swarm.TaskStateComplete)
}

func (j judging) unhealthy(tk swarm.Task) bool {
	if isUnhealthy(tk.Status.Err) {
		return true
	}
	cs := tk.Status.ContainerStatus
	return cs != nil && j.o.Health[cs.ContainerID] == "unhealthy"
}

// lastFailure describes the most recent failed task behind a waiting one, so that a timeout
// explains a crash loop that had not reached MaxFailures yet.
func (j judging) lastFailure(tasks []swarm.Task) string {
	for _, tk := range tasks[1:] {
		if ended(tk.Status.State, false) {
			health := ""
			if j.unhealthy(tk) {
				health = " (health: unhealthy)"
			}
			return fmt.Sprintf(" (previous task %s %s%s: %s)", shortID(tk.ID), tk.Status.State, health, taskErr(tk))
		}
	}
	return ""
}

func restartCondition(tk swarm.Task) swarm.RestartPolicyCondition {
	if rp := tk.Spec.RestartPolicy; rp != nil && rp.Condition != "" {
		return rp.Condition
	}
	return swarm.RestartPolicyConditionAny
}

// willRestart reports whether the engine replaces a task that ended: the restart condition
// allows it and, when MaxAttempts is set, fewer restarts than that happened (each failure
// after the first was preceded by a restart).
func willRestart(cond swarm.RestartPolicyCondition, tk swarm.Task, completed bool, failures int) bool {
	switch {
	case cond == swarm.RestartPolicyConditionNone:
		return false
	case completed:
		return cond == swarm.RestartPolicyConditionAny
	}
	if rp := tk.Spec.RestartPolicy; rp != nil && rp.MaxAttempts != nil && *rp.MaxAttempts > 0 {
		return uint64(failures) <= *rp.MaxAttempts
	}
	return true
}

// isImageError recognises the engine's and registries' ways of saying an image is missing.
func isImageError(msg string) bool {
	m := strings.ToLower(msg)
	for _, s := range []string{"no such image", "manifest unknown", "pull access denied", "repository does not exist", "not found: manifest"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return strings.Contains(m, "manifest for") && strings.Contains(m, "not found")
}

func isUnhealthy(msg string) bool {
	return strings.Contains(strings.ToLower(msg), "unhealthy container")
}
