package fake

import (
	"fmt"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// rollout is swarmkit's updater for one service: replace out-of-date tasks slot by slot
// (Parallelism at a time, stop-first or start-first), apply the failure action when a new task
// fails, and complete once every slot runs the new spec for a monitor period.
func (f *Fake) rollout(s *service, now time.Time) bool {
	if p := s.pending; p != nil {
		s.pending = nil
		f.startRollout(s, p.State, p.Message)
		return true
	}
	us := s.s.UpdateStatus
	if us == nil || (us.State != swarm.UpdateStateUpdating && us.State != swarm.UpdateStateRollbackStarted) {
		return false
	}
	back := us.State == swarm.UpdateStateRollbackStarted
	cfg := s.s.Spec.UpdateConfig
	if back {
		cfg = s.s.Spec.RollbackConfig
	}
	if cfg == nil {
		cfg = &swarm.UpdateConfig{Parallelism: 1}
	}
	monitor := cfg.Monitor
	if monitor == 0 {
		monitor = defaultMonitor
	}
	if f.fastRollouts {
		monitor = 0
	}
	// A slot whose task ended for good (restart policy none) still belongs to the rollout: a
	// changed template replaces it, which is how a one-shot service runs again.
	var slots []*task
	for _, sl := range s.slotNumbers() {
		cur := s.current(sl, 0)
		if last := s.last(sl, 0); cur == nil && last != nil && last.noRestart {
			cur = last
		}
		if cur != nil {
			slots = append(slots, cur)
		}
	}
	// Any end of a new task counts against the rollout, an exit 0 too ("early termination").
	for _, t := range s.tasks {
		if t.gen == s.updateGen && t.key == s.key && !t.counted && terminal(t.t.Status.State) &&
			t.t.Status.State != swarm.TaskStateShutdown {
			t.counted = true
			s.failures++
			if len(slots) == 0 || float32(s.failures)/float32(len(slots)) > cfg.MaxFailureRatio {
				return f.failRollout(s, t, cfg.FailureAction, back, now)
			}
		}
	}
	var dirty, inflight []*task
	var lastRunning time.Time
	for _, cur := range slots {
		switch {
		case cur.key != s.key:
			dirty = append(dirty, cur)
		case terminal(cur.t.Status.State):
			// Ended: counted above; the restart policy deals with it.
		case cur.t.Status.State != swarm.TaskStateRunning:
			inflight = append(inflight, cur)
		case cur.runningAt.After(lastRunning):
			lastRunning = cur.runningAt
		}
	}
	changed := false
	for len(dirty) > 0 && (cfg.Parallelism == 0 || uint64(len(inflight)) < cfg.Parallelism) {
		old := dirty[0]
		dirty = dirty[1:]
		if cfg.Order == swarm.UpdateOrderStartFirst {
			nt := f.newTask(s, old.t.Slot, swarm.TaskStateRunning)
			nt.replaces = old
			inflight = append(inflight, nt)
		} else {
			f.setDesired(old, swarm.TaskStateShutdown)
			nt := f.newTask(s, old.t.Slot, swarm.TaskStateReady)
			nt.waitFor = old
			inflight = append(inflight, nt)
		}
		changed = true
	}
	if len(dirty) > 0 || (len(inflight) > 0 && !back) {
		return changed
	}
	// A rollback is done once every slot has a task of the restored spec, running or not (the
	// engine reports rollback_completed while the restored task may still wait out its restart
	// delay); an update once they all run and a monitor period has passed without failure.
	if !back && now.Before(lastRunning.Add(monitor)) {
		f.wake(s, lastRunning.Add(monitor))
		return changed
	}
	state, msg := swarm.UpdateStateCompleted, "update completed"
	if back {
		state, msg = swarm.UpdateStateRollbackCompleted, "rollback completed"
	}
	f.setUpdateState(s, state, msg, now, true)
	return true
}

// failRollout applies the failure action for the failed task t.
func (f *Fake) failRollout(s *service, t *task, action string, back bool, now time.Time) bool {
	switch {
	case action == swarm.UpdateFailureActionContinue:
		return true
	case action == swarm.UpdateFailureActionRollback && !back && s.s.PreviousSpec != nil:
		old := s.s.Spec.Name
		prev := *s.s.PreviousSpec
		attrs := map[string]string{"name": old}
		if oi, ni := s.s.Spec.TaskTemplate.ContainerSpec.Image, prev.TaskTemplate.ContainerSpec.Image; oi != ni {
			attrs["image.old"], attrs["image.new"] = oi, ni
		}
		s.s.Spec = prev
		s.s.PreviousSpec = nil
		s.key = taskKey(prev)
		s.s.Endpoint = f.endpoint(prev)
		f.startRollout(s, swarm.UpdateStateRollbackStarted, fmt.Sprintf(rolloutFailureMessageFmt, "rolled back", t.t.ID))
		return true
	case back:
		f.setUpdateState(s, swarm.UpdateStateRollbackPaused, fmt.Sprintf("rollback paused due to failure or early termination of task %s", t.t.ID), now, false)
		return true
	default:
		f.setUpdateState(s, swarm.UpdateStatePaused, fmt.Sprintf(rolloutFailureMessageFmt, "paused", t.t.ID), now, false)
		return true
	}
}

// startRollout begins an update or rollback of the service's current spec.
func (f *Fake) startRollout(s *service, state swarm.UpdateState, msg string) {
	now := f.clock()
	s.updateGen++
	s.failures = 0
	old := ""
	if s.s.UpdateStatus != nil {
		old = string(s.s.UpdateStatus.State)
	}
	s.s.UpdateStatus = &swarm.UpdateStatus{State: state, StartedAt: &now, Message: msg}
	s.s.Version = f.bump()
	s.s.UpdatedAt = now
	f.emitUpdateState(s, old, string(state))
}

func (f *Fake) setUpdateState(s *service, state swarm.UpdateState, msg string, now time.Time, completed bool) {
	us := s.s.UpdateStatus
	old := us.State
	us.State, us.Message = state, msg
	if completed {
		us.CompletedAt = &now
	}
	s.s.Version = f.bump()
	f.emitUpdateState(s, string(old), string(state))
}

func (f *Fake) emitUpdateState(s *service, old, state string) {
	attrs := map[string]string{"name": s.s.Spec.Name, "updatestate.new": state}
	if old != "" {
		attrs["updatestate.old"] = old
	}
	f.emit("service", "update", s.s.ID, attrs, "swarm")
}
