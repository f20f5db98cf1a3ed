package fake

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
)

// Engine defaults the fake applies where a spec leaves them out, as swarmkit does.
const (
	defaultRestartDelay      = 5 * time.Second
	defaultMonitor           = 5 * time.Second
	defaultHealthInterval    = 30 * time.Second
	defaultHealthRetries     = 3
	taskHistoryRetention     = 5
	rolloutFailureMessageFmt = "update %s due to failure or early termination of task %s"
)

// task is a task in the store and what its lifecycle needs beyond swarm.Task.
type task struct {
	t   swarm.Task
	svc *service
	key string
	gen int
	// readyAt is when a replacement waiting with desired state ready may start (restart
	// delay).
	readyAt time.Time
	// waitFor is the task a stop-first update replaces: this one starts once it has stopped.
	waitFor *task
	// replaces is the task a start-first update replaces: it stops once this one runs.
	replaces   *task
	startingAt time.Time
	runningAt  time.Time
	// noRestart marks an ended task the restart policy does not replace.
	noRestart bool
	// counted marks a failure already counted against its rollout.
	counted   bool
	container *containerObj
}

// TaskList lists tasks, history included. The service filter takes names or IDs and, like the
// engine, fails for a service that does not exist; label matches the service's labels; the
// engine-internal "_up-to-date" keeps the tasks whose spec is the service's current task
// template (the updater's test).
func (f *Fake) TaskList(ctx context.Context, options swarm.TaskListOptions) ([]swarm.Task, error) {
	if err := f.enter(ctx, "TaskList", options); err != nil {
		return nil, err
	}
	if err := validateFilters(options.Filters, "name", "id", "label", "service", "node", "desired-state", "_up-to-date", "runtime"); err != nil {
		return nil, err
	}
	f.lock()
	defer f.unlock()
	svcIDs := map[string]bool{}
	for _, ref := range options.Filters.Get("service") {
		s, err := f.findService(ref)
		if err != nil {
			return nil, err
		}
		svcIDs[s.s.ID] = true
	}
	var out []swarm.Task
	for _, s := range f.order {
		if len(svcIDs) > 0 && !svcIDs[s.s.ID] {
			continue
		}
		if !options.Filters.MatchKVList("label", s.s.Spec.Labels) {
			continue
		}
		for _, t := range s.tasks {
			if !matchPrefix(options.Filters, "id", t.t.ID) || !matchPrefix(options.Filters, "name", f.taskName(t)) ||
				(options.Filters.Contains("node") && !options.Filters.ExactMatch("node", t.t.NodeID) && !options.Filters.ExactMatch("node", f.hostname)) ||
				(options.Filters.Contains("desired-state") && !options.Filters.ExactMatch("desired-state", string(t.t.DesiredState))) ||
				(options.Filters.Contains("_up-to-date") && t.key != s.key) {
				continue
			}
			out = append(out, clone(t.t))
		}
	}
	if len(svcIDs) == 0 {
		for _, t := range f.dying {
			if options.Filters.MatchKVList("label", t.svc.s.Spec.Labels) && matchPrefix(options.Filters, "id", t.t.ID) &&
				matchPrefix(options.Filters, "name", f.taskName(t)) &&
				(!options.Filters.Contains("desired-state") || options.Filters.ExactMatch("desired-state", string(t.t.DesiredState))) &&
				!options.Filters.Contains("_up-to-date") {
				out = append(out, clone(t.t))
			}
		}
	}
	return out, nil
}

// step moves the world one step and reports whether anything changed: for every service
// that is busy or has a timed transition due, the orchestrator creates and retires tasks,
// tasks advance one state, the rollout takes its next decision. Quiet services cost nothing,
// so a swarm of many settled stacks stays fast.
func (f *Fake) step() bool {
	now := f.clock()
	f.wakeAt = time.Time{}
	changed := f.bury()
	for _, s := range f.order {
		if !s.busy && (s.wakeAt.IsZero() || now.Before(s.wakeAt)) {
			f.noteWake(s.wakeAt)
			continue
		}
		s.wakeAt = time.Time{}
		moved := f.orchestrate(s, now)
		for _, t := range append([]*task(nil), s.tasks...) {
			if f.advance(t, now) {
				moved = true
			}
		}
		if f.rollout(s, now) {
			moved = true
		}
		f.reap(s)
		s.busy = moved
		changed = changed || moved
		f.noteWake(s.wakeAt)
	}
	return changed
}

// bury moves the tasks of removed services one step out: a live one shuts down, an ended one
// leaves the store with its container.
func (f *Fake) bury() bool {
	if len(f.dying) == 0 {
		return false
	}
	kept := f.dying[:0]
	for _, t := range f.dying {
		if !terminal(t.t.Status.State) {
			f.stopContainer(t, 0, true)
			f.transition(t, swarm.TaskStateShutdown, "shutdown")
			kept = append(kept, t)
			continue
		}
		f.removeContainer(t)
	}
	for i := len(kept); i < len(f.dying); i++ {
		f.dying[i] = nil
	}
	f.dying = kept
	return true
}

// orchestrate is swarmkit's orchestrator for one service: one live task per slot, replacement
// of ended tasks by the restart policy, release of delayed replacements, scale down.
func (f *Fake) orchestrate(s *service, now time.Time) bool {
	changed := false
	m := s.s.Spec.Mode
	job := isJob(m)
	var slots []int
	maxActive := -1
	switch {
	case m.Replicated != nil:
		for i := 1; i <= int(*m.Replicated.Replicas); i++ {
			slots = append(slots, i)
		}
	case m.ReplicatedJob != nil:
		for i := 0; i < int(*m.ReplicatedJob.TotalCompletions); i++ {
			slots = append(slots, i)
		}
		maxActive = int(*m.ReplicatedJob.MaxConcurrent)
	default: // global and global job: one task on the one node
		slots = []int{0}
	}
	iter := uint64(0)
	if job {
		iter = s.s.JobStatus.JobIteration.Index
	}
	wanted := map[int]bool{}
	for _, sl := range slots {
		wanted[sl] = true
	}
	// Retire what no slot wants: scaled-down slots and tasks of an earlier job iteration.
	for _, t := range s.tasks {
		stale := !wanted[t.t.Slot] || (job && t.t.JobIteration != nil && t.t.JobIteration.Index != iter)
		if stale && active(t) && t.t.Status.State != swarm.TaskStateComplete {
			f.setDesired(t, swarm.TaskStateShutdown)
			changed = true
		}
	}
	activeCount := 0
	for _, sl := range slots {
		if cur := s.current(sl, iter); cur != nil && !terminal(cur.t.Status.State) {
			activeCount++
		}
	}
	runState := swarm.TaskStateRunning
	if job {
		runState = swarm.TaskStateComplete
	}
	for _, sl := range slots {
		cur := s.current(sl, iter)
		last := s.last(sl, iter)
		switch {
		case cur == nil && last != nil && (last.noRestart || (job && last.t.Status.State == swarm.TaskStateComplete)):
			// Done, or not restarted by policy.
		case cur == nil && last != nil && active(last):
			// The slot's last task is still wanted (a completed job task).
		case cur == nil:
			if maxActive >= 0 && activeCount >= maxActive {
				continue
			}
			f.newTask(s, sl, runState)
			activeCount++
			changed = true
		case job && cur.t.Status.State == swarm.TaskStateComplete:
			// A completed job task stays with desired state complete.
		case terminal(cur.t.Status.State) && cur.t.DesiredState == swarm.TaskStateReady && now.Before(cur.readyAt):
			// A replacement that failed while waiting out its restart delay (a missing image
			// is rejected at once) keeps desired state ready until the delay has passed.
			f.wake(s, cur.readyAt)
		case terminal(cur.t.Status.State):
			f.setDesired(cur, swarm.TaskStateShutdown)
			changed = true
			delay, ok := f.restart(s, cur)
			if !ok {
				cur.noRestart = true
				continue
			}
			nt := f.newTask(s, sl, swarm.TaskStateReady)
			nt.readyAt = now.Add(delay)
			f.wake(s, nt.readyAt)
		case cur.t.DesiredState == swarm.TaskStateReady:
			if now.Before(cur.readyAt) {
				f.wake(s, cur.readyAt)
				continue
			}
			if cur.waitFor != nil && !terminal(cur.waitFor.t.Status.State) {
				continue
			}
			f.setDesired(cur, runState)
			changed = true
		case cur.replaces != nil && cur.t.Status.State == swarm.TaskStateRunning && active(cur.replaces):
			f.setDesired(cur.replaces, swarm.TaskStateShutdown)
			changed = true
		}
		// Only the newest task of a slot stays wanted (the one a start-first update
		// replaces stays until its replacement runs).
		if cur = s.current(sl, iter); cur != nil {
			for _, t := range s.tasks {
				if t != cur && t != cur.replaces && t.t.Slot == sl && active(t) && t.t.Status.State != swarm.TaskStateComplete {
					f.setDesired(t, swarm.TaskStateShutdown)
					changed = true
				}
			}
		}
	}
	return changed
}

// restart applies the task template's restart policy to an ended task: whether to replace it
// and after which delay. Services restart on any exit by default, jobs on failure only.
func (f *Fake) restart(s *service, t *task) (time.Duration, bool) {
	cond := swarm.RestartPolicyConditionAny
	if isJob(s.s.Spec.Mode) {
		cond = swarm.RestartPolicyConditionOnFailure
	}
	delay := defaultRestartDelay
	var maxAttempts uint64
	if rp := s.s.Spec.TaskTemplate.RestartPolicy; rp != nil {
		cond = rp.Condition
		if rp.Delay != nil {
			delay = *rp.Delay
		}
		if rp.MaxAttempts != nil {
			maxAttempts = *rp.MaxAttempts
		}
	}
	switch cond {
	case swarm.RestartPolicyConditionNone:
		return 0, false
	case swarm.RestartPolicyConditionOnFailure:
		if t.t.Status.State == swarm.TaskStateComplete {
			return 0, false
		}
	}
	if maxAttempts > 0 {
		var n uint64
		for _, o := range s.tasks {
			if o.t.Slot == t.t.Slot && o.key == t.key && terminal(o.t.Status.State) && o.t.Status.State != swarm.TaskStateShutdown {
				n++
			}
		}
		if n >= maxAttempts {
			return 0, false
		}
	}
	return delay, true
}

// advance moves one task one state toward its desired state, as the node's agent would.
func (f *Fake) advance(t *task, now time.Time) bool {
	st, desired := t.t.Status.State, t.t.DesiredState
	if terminal(st) {
		return false
	}
	if desired == swarm.TaskStateShutdown || desired == swarm.TaskStateRemove {
		f.stopContainer(t, 0, true)
		f.transition(t, swarm.TaskStateShutdown, "shutdown")
		return true
	}
	switch st {
	case swarm.TaskStateNew:
		f.transition(t, swarm.TaskStatePending, "pending task scheduling")
	case swarm.TaskStatePending:
		t.t.NodeID = f.node.ID
		f.transition(t, swarm.TaskStateAssigned, "scheduler assigned task to node")
	case swarm.TaskStateAssigned:
		f.transition(t, swarm.TaskStateAccepted, "accepted")
	case swarm.TaskStateAccepted:
		f.transition(t, swarm.TaskStatePreparing, "preparing")
	case swarm.TaskStatePreparing:
		ref := t.t.Spec.ContainerSpec.Image
		if !f.imagePresent(ref) {
			t.t.Status.Err = "No such image: " + ref
			t.t.Status.ContainerStatus = &swarm.ContainerStatus{}
			f.transition(t, swarm.TaskStateRejected, "preparing")
			return true
		}
		f.transition(t, swarm.TaskStateReady, "prepared")
	case swarm.TaskStateReady:
		if desired == swarm.TaskStateReady {
			return false
		}
		f.startContainer(t)
		t.startingAt = now
		f.transition(t, swarm.TaskStateStarting, "starting")
	case swarm.TaskStateStarting:
		if hc := t.t.Spec.ContainerSpec.Healthcheck; hasHealthcheck(hc) {
			if f.unhealthy[t.svc.s.Spec.Name] {
				due := t.startingAt.Add(healthTimeout(hc))
				if now.Before(due) {
					f.wake(t.svc, due)
					return false
				}
				// The engine stops an unhealthy container with SIGTERM; a program that
				// exits cleanly on it (as the probe does) leaves the task complete, exit 0:
				// only the health_status event tells this from an ordinary exit.
				f.emitContainer(t, "health_status: unhealthy", nil)
				f.stopContainer(t, 0, true)
				f.transition(t, swarm.TaskStateComplete, "finished")
				return true
			}
			f.emitContainer(t, "health_status: healthy", nil)
		}
		t.runningAt = now
		f.transition(t, swarm.TaskStateRunning, "started")
	case swarm.TaskStateRunning:
		code, crash := f.crashService[t.svc.s.Spec.Name]
		if !crash {
			code, crash = f.crashImage[f.imageKey(t.t.Spec.ContainerSpec.Image)]
		}
		if !crash && f.crashFn != nil {
			code, crash = f.crashFn(t.svc.s.Spec.Name, t.t.Spec)
		}
		switch {
		case crash && code != 0:
			f.stopContainer(t, code, false)
			t.t.Status.Err = fmt.Sprintf("task: non-zero exit (%d)", code)
			f.transition(t, swarm.TaskStateFailed, "started")
		case crash || desired == swarm.TaskStateComplete:
			f.stopContainer(t, 0, false)
			f.transition(t, swarm.TaskStateComplete, "finished")
		default:
			return false
		}
	default:
		return false
	}
	return true
}

// reap drops the oldest ended tasks of a slot beyond the task history retention limit.
func (f *Fake) reap(s *service) {
	perSlot := map[int]int{}
	for _, t := range s.tasks {
		perSlot[t.t.Slot]++
	}
	kept := s.tasks[:0]
	for _, t := range s.tasks {
		if perSlot[t.t.Slot] > taskHistoryRetention && !active(t) && terminal(t.t.Status.State) {
			perSlot[t.t.Slot]--
			f.removeContainer(t)
			continue
		}
		kept = append(kept, t)
	}
	for i := len(kept); i < len(s.tasks); i++ {
		s.tasks[i] = nil
	}
	s.tasks = kept
}

// newTask creates a task of the service's current spec in slot.
func (f *Fake) newTask(s *service, slot int, desired swarm.TaskState) *task {
	now := f.clock()
	t := &task{svc: s, key: s.key, gen: s.updateGen}
	t.t = swarm.Task{
		ID:           f.newID(),
		Annotations:  swarm.Annotations{Labels: map[string]string{}},
		Spec:         taskSpec(s.s.Spec),
		ServiceID:    s.s.ID,
		Slot:         slot,
		DesiredState: desired,
		Status:       swarm.TaskStatus{Timestamp: now, State: swarm.TaskStateNew, Message: "created", PortStatus: swarm.PortStatus{}},
	}
	t.t.Version = f.bump()
	t.t.CreatedAt, t.t.UpdatedAt = now, now
	m := s.s.Spec.Mode
	if m.Global != nil || m.GlobalJob != nil {
		t.t.NodeID = f.node.ID
	}
	if isJob(m) {
		t.t.JobIteration = &swarm.Version{Index: s.s.JobStatus.JobIteration.Index}
	}
	s.tasks = append(s.tasks, t)
	return t
}

func (f *Fake) transition(t *task, state swarm.TaskState, msg string) {
	now := f.clock()
	t.t.Status.State, t.t.Status.Message, t.t.Status.Timestamp = state, msg, now
	t.t.Version = f.bump()
	t.t.UpdatedAt = now
}

func (f *Fake) setDesired(t *task, d swarm.TaskState) {
	t.t.DesiredState = d
	t.t.Version = f.bump()
	t.t.UpdatedAt = f.clock()
}

// taskName is the engine's task (and container) name: service.slot.id, or service.node.id
// for tasks without a slot (global services, the first job slot).
func (f *Fake) taskName(t *task) string {
	mid := t.t.NodeID
	if t.t.Slot != 0 {
		mid = strconv.Itoa(t.t.Slot)
	}
	if mid == "" {
		mid = f.node.ID
	}
	return t.svc.s.Spec.Name + "." + mid + "." + t.t.ID
}

// current is the newest wanted task of a slot (of job iteration iter for jobs).
func (s *service) current(slot int, iter uint64) *task {
	for i := len(s.tasks) - 1; i >= 0; i-- {
		t := s.tasks[i]
		if t.t.Slot == slot && active(t) && (t.t.JobIteration == nil || t.t.JobIteration.Index == iter) {
			return t
		}
	}
	return nil
}

// last is the newest task of a slot whatever its state.
func (s *service) last(slot int, iter uint64) *task {
	for i := len(s.tasks) - 1; i >= 0; i-- {
		t := s.tasks[i]
		if t.t.Slot == slot && (t.t.JobIteration == nil || t.t.JobIteration.Index == iter) {
			return t
		}
	}
	return nil
}

// slotNumbers lists the slots of a replicated or global service.
func (s *service) slotNumbers() []int {
	if r := s.s.Spec.Mode.Replicated; r != nil {
		out := make([]int, 0, *r.Replicas)
		for i := 1; i <= int(*r.Replicas); i++ {
			out = append(out, i)
		}
		return out
	}
	if s.s.Spec.Mode.Global != nil {
		return []int{0}
	}
	return nil
}

// active reports whether the orchestrator still wants the task.
func active(t *task) bool {
	switch t.t.DesiredState {
	case swarm.TaskStateShutdown, swarm.TaskStateRemove, swarm.TaskStateOrphaned:
		return false
	}
	return true
}

func terminal(s swarm.TaskState) bool {
	switch s {
	case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed, swarm.TaskStateRejected,
		swarm.TaskStateRemove, swarm.TaskStateOrphaned:
		return true
	}
	return false
}

// hasHealthcheck reports whether a task has a healthcheck of its own; images here carry
// none, as the probe images do.
func hasHealthcheck(hc *container.HealthConfig) bool {
	return hc != nil && len(hc.Test) > 0 && hc.Test[0] != "NONE"
}

// healthTimeout is how long an unhealthy container stays starting before it fails: the start
// period, then the retries at the check interval.
func healthTimeout(hc *container.HealthConfig) time.Duration {
	interval, retries := hc.Interval, hc.Retries
	if interval == 0 {
		interval = defaultHealthInterval
	}
	if retries == 0 {
		retries = defaultHealthRetries
	}
	return hc.StartPeriod + interval*time.Duration(retries)
}
