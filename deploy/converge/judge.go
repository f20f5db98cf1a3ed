package converge

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/swarmrun/swarmrun/deploy/internal/servicemode"

	"github.com/docker/docker/api/types/swarm"
)

// DefaultMonitor is the engine's update monitor period, used as the stability window of a
// service whose UpdateConfig does not set one.
const DefaultMonitor = 5 * time.Second

// DefaultHealthInterval is the engine's healthcheck interval when the spec does not set one.
const DefaultHealthInterval = 30 * time.Second

// DefaultMaxFailures is how many consecutive failures of current-spec tasks in one slot fail
// a service when Policy.MaxFailures is zero. Services often crash a few times on a first
// install while a database they need starts, so the default is as many ended tasks as the
// engine keeps in a slot by default (a task history of 5, the current task included): with
// the default 5 s restart delay, some 20 s of nothing but crashes. A swarm configured to keep
// less history never shows that many; its crash loops end at the bound.
const DefaultMaxFailures = 4

// Observation is one consistent look at a service: its tasks and the nodes, listed while the
// service's version did not change.
type Observation struct {
	Service swarm.Service
	// Tasks are all tasks of the service that the engine keeps, current and previous specs.
	Tasks []swarm.Task
	// UpToDate holds the IDs of the tasks that the engine reports as running the service's
	// current spec (the task list filter "_up-to-date", which compares the task template the
	// way the engine's updater does).
	UpToDate map[string]bool
	Nodes    []swarm.Node
	// Health maps container IDs to the last health status the node's events reported
	// ("starting", "healthy", "unhealthy"). The engine records a task killed for being
	// unhealthy as an ordinary exit, so only these events tell a health loop from a crash
	// loop. Events are node-local: tasks on other nodes are missing, which only makes the
	// failure reason less precise.
	Health map[string]string
	// SeenRunning maps task IDs to when the observer first saw them running. Stability is
	// timed from the later of that and the task's status timestamp: the manager learns of a
	// crash a little after it happens, and under load that lag can eat into a window timed
	// from the timestamp alone. Tasks already running at the observer's first look are absent
	// (or zero), so a service that ran before the wait converges at once.
	SeenRunning map[string]time.Time
}

// Policy sets how strict Judge is.
type Policy struct {
	// Window is how long the current spec's tasks must all have run before a service counts
	// as converged. Zero picks the default per service (see StabilityWindow); negative means
	// running (healthy) is enough.
	Window time.Duration
	// MaxFailures is how many consecutive failures of current-spec tasks in one slot (or on
	// one node) fail the service. Zero means DefaultMaxFailures; negative means never: such a
	// service fails only when the engine gives up restarting it, or times out.
	MaxFailures int
}

// Verdict is Judge's finding about one service.
type Verdict struct {
	Phase Phase
	// Reason is set when Phase is PhaseFailed.
	Reason      Reason
	Message     string
	Mode        string
	Running     int
	Desired     int
	UpdateState string
	// StableAt is when a Stabilising service counts as converged if nothing changes.
	StableAt time.Time
	Tasks    []TaskSummary
}

// Judge decides whether one service has converged for target t at time now. It is a pure
// function of the observation: every wait, test and benchmark goes through it.
//
// A replicated service has converged when, for each of its replicas, the newest task of the
// current spec in a slot runs (the engine reports a task with a healthcheck as running only
// once healthy) on a node that is not down or drained, no task of a previous spec is still
// meant to run, and all of them have run for the stability window (timed from the later of a
// task's status timestamp and Observation.SeenRunning). A global service needs the same on
// every eligible node: a ready, active node, or (when the service has placement constraints,
// which Judge does not evaluate) a node that holds a task of the current spec. Jobs have
// converged when the current iteration's tasks completed.
func Judge(o Observation, t Target, p Policy, now time.Time) Verdict {
	svc := o.Service
	v := Verdict{Mode: servicemode.Name(svc.Spec.Mode)}
	if svc.UpdateStatus != nil {
		v.UpdateState = string(svc.UpdateStatus.State)
	}
	j := judging{o: o, p: p, usable: usableNodes(o.Nodes), health: healthcheckOf(svc)}
	switch m := svc.Spec.Mode; {
	case m.ReplicatedJob != nil:
		j.replicatedJob(&v)
	case m.GlobalJob != nil:
		j.globalJob(&v)
	case m.Global != nil:
		j.global(&v, now)
	default:
		j.replicated(&v, now)
	}
	// The update state overrules the tasks: after a rollback the previous spec's tasks run
	// and look converged.
	if reason, msg, culprit, ok := j.updateFailure(t); ok {
		v.Phase, v.Reason, v.Message, v.StableAt = PhaseFailed, reason, msg, time.Time{}
		if culprit != nil {
			v.Tasks = append([]TaskSummary{j.summary(*culprit)}, v.Tasks...)
		}
	}
	return v
}

// StabilityWindow is how long a service's current tasks must have run before it counts as
// converged, when Policy.Window is zero: the service's update monitor period (the engine
// watches an update for failures that long, so a shorter wait could report a success the
// engine then rolls back), shortened by the healthcheck interval when the spec has one,
// because a task turns healthy only after its first probe, one interval after the start.
func StabilityWindow(svc swarm.Service) time.Duration {
	monitor := DefaultMonitor
	if uc := svc.Spec.UpdateConfig; uc != nil && uc.Monitor > 0 {
		monitor = uc.Monitor
	}
	if hc := healthcheckOf(svc); hc != nil {
		interval := hc.Interval
		if interval <= 0 {
			interval = DefaultHealthInterval
		}
		return max(0, monitor-interval)
	}
	return monitor
}

type judging struct {
	o      Observation
	p      Policy
	usable map[string]bool
	health *healthcheck
}

type healthcheck struct{ Interval time.Duration }

func healthcheckOf(svc swarm.Service) *healthcheck {
	cs := svc.Spec.TaskTemplate.ContainerSpec
	if cs == nil || cs.Healthcheck == nil || len(cs.Healthcheck.Test) == 0 || cs.Healthcheck.Test[0] == "NONE" {
		return nil
	}
	return &healthcheck{Interval: cs.Healthcheck.Interval}
}

// updateFailure reports an update state that fails the service: paused or rolling back, when
// this apply's update caused it. A spec update resets the update state, so a state on a
// service whose version moved past PrevVersion belongs to this apply's update. The task
// the engine names as the cause is returned with it.
func (j judging) updateFailure(t Target) (Reason, string, *swarm.Task, bool) {
	us := j.o.Service.UpdateStatus
	if us == nil || !t.Changed || (t.PrevVersion != 0 && j.o.Service.Version.Index <= t.PrevVersion) {
		return "", "", nil, false
	}
	var reason Reason
	switch us.State {
	case swarm.UpdateStatePaused:
		reason = UpdatePaused
	case swarm.UpdateStateRollbackStarted, swarm.UpdateStateRollbackPaused, swarm.UpdateStateRollbackCompleted:
		reason = RolledBack
	default:
		return "", "", nil, false
	}
	msg := fmt.Sprintf("update %s", us.State)
	if us.Message != "" {
		msg += ": " + us.Message
	}
	culprit := j.culprit(us)
	if culprit != nil {
		msg += fmt.Sprintf(" (task %s, image %s, %s: %s)", shortID(culprit.ID), imageOf(*culprit), culprit.Status.State, taskErr(*culprit))
	}
	return reason, msg, culprit, true
}

// culprit finds the task whose end tripped the update's failure action: the one the engine
// names in the update message or, once a completed rollback has overwritten that message, the
// newest task that ended on its own since the update started.
func (j judging) culprit(us *swarm.UpdateStatus) *swarm.Task {
	for i, tk := range j.o.Tasks {
		if strings.Contains(us.Message, tk.ID) {
			return &j.o.Tasks[i]
		}
	}
	var found *swarm.Task
	for i, tk := range j.o.Tasks {
		if !ended(tk.Status.State, false) || (us.StartedAt != nil && tk.CreatedAt.Before(*us.StartedAt)) {
			continue
		}
		if found == nil || tk.CreatedAt.After(found.CreatedAt) {
			found = &j.o.Tasks[i]
		}
	}
	return found
}

// current returns the tasks of the current spec (for jobs: of the current iteration).
func (j judging) current() []swarm.Task {
	svc := j.o.Service
	isJob := svc.Spec.Mode.ReplicatedJob != nil || svc.Spec.Mode.GlobalJob != nil
	var out []swarm.Task
	for _, tk := range j.o.Tasks {
		if isJob {
			if svc.JobStatus != nil && (tk.JobIteration == nil || tk.JobIteration.Index != svc.JobStatus.JobIteration.Index) {
				continue
			}
		} else if !j.o.UpToDate[tk.ID] {
			continue
		}
		out = append(out, tk)
	}
	return out
}

// staleLive returns tasks of a previous spec that the engine still means to run: while any
// exists, the rollout has not finished.
func (j judging) staleLive() []swarm.Task {
	var out []swarm.Task
	for _, tk := range j.o.Tasks {
		if !j.o.UpToDate[tk.ID] && (tk.DesiredState == swarm.TaskStateRunning || tk.DesiredState == swarm.TaskStateReady) {
			out = append(out, tk)
		}
	}
	return out
}

func (j judging) replicated(v *Verdict, now time.Time) {
	svc := j.o.Service
	if r := svc.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		v.Desired = int(*r.Replicas)
	}
	cur := j.current()
	groups := groupBy(cur, func(tk swarm.Task) string { return fmt.Sprintf("%09d", tk.Slot) })
	j.judgeGroups(v, groups, nil, now)
	if v.Phase == PhaseFailed {
		return
	}
	if len(cur) == 0 && v.Desired > 0 {
		v.Phase, v.Message = PhasePending, "waiting for tasks of the current spec"
	}
}

func (j judging) global(v *Verdict, now time.Time) {
	cur := j.current()
	groups := groupBy(cur, func(tk swarm.Task) string { return tk.NodeID })
	eligible := map[string]bool{}
	tmpl := j.o.Service.Spec.TaskTemplate
	constrained := tmpl.Placement != nil && (len(tmpl.Placement.Constraints) > 0 || len(tmpl.Placement.Platforms) > 0)
	if !constrained {
		for _, n := range j.o.Nodes {
			if n.Status.State == swarm.NodeStateReady && n.Spec.Availability == swarm.NodeAvailabilityActive {
				eligible[n.ID] = true
			}
		}
	}
	for id := range groups {
		if j.usable[id] {
			eligible[id] = true
		}
	}
	v.Desired = len(eligible)
	var missing []string
	for id := range eligible {
		if _, ok := groups[id]; !ok {
			missing = append(missing, id)
		}
	}
	for id := range groups {
		if !eligible[id] {
			delete(groups, id)
		}
	}
	j.judgeGroups(v, groups, missing, now)
	if v.Phase == PhaseFailed {
		return
	}
	if len(cur) == 0 || v.Desired == 0 {
		v.Phase, v.Message = PhasePending, "waiting for tasks of the current spec on eligible nodes"
	}
}

// failOrWait records a slot's newest task in v and then either the slot's failure (the first
// failure found decides the verdict) or, returned, what the slot still waits for.
func (j judging) failOrWait(v *Verdict, tasks []swarm.Task, job bool) (waiting string) {
	newest := tasks[0]
	v.Tasks = append(v.Tasks, j.summary(newest))
	if f, ok := j.groupFailure(tasks, job); ok {
		if f.task.ID != newest.ID {
			v.Tasks = append(v.Tasks, j.summary(f.task))
		}
		if v.Phase != PhaseFailed {
			v.Phase, v.Reason, v.Message = PhaseFailed, f.reason, f.message
		}
		return ""
	}
	return j.summary(newest).String() + j.lastFailure(tasks)
}

// judgeGroups judges the slots (or nodes) of a long-running service. missing names nodes that
// should hold a task but hold none yet.
func (j judging) judgeGroups(v *Verdict, groups map[string][]swarm.Task, missing []string, now time.Time) {
	var latest time.Time
	var waiting, restarted []string
	for _, key := range slices.Sorted(maps.Keys(groups)) {
		tasks := groups[key]
		newest := tasks[0]
		if newest.DesiredState == swarm.TaskStateRunning && newest.Status.State == swarm.TaskStateRunning && j.usable[newest.NodeID] {
			v.Running++
			latest = later(latest, later(newest.Status.Timestamp, j.o.SeenRunning[newest.ID]))
			v.Tasks = append(v.Tasks, j.summary(newest))
			if len(tasks) > 1 && ended(tasks[1].Status.State, false) {
				// A restart: say what ended before, in case this run does not last either.
				restarted = append(restarted, placeOf(newest)+j.lastFailure(tasks))
			}
			continue
		}
		if !live(newest) && newest.Status.State == swarm.TaskStateShutdown {
			// A slot the engine is removing (scale down, or a node's task replaced).
			continue
		}
		if w := j.failOrWait(v, tasks, false); w != "" {
			waiting = append(waiting, w)
		}
	}
	if v.Phase == PhaseFailed {
		return
	}
	if short := v.Desired - v.Running - len(waiting); missing == nil && short > 0 {
		waiting = append(waiting, fmt.Sprintf("%d replica(s) with no task of the current spec yet", short))
	}
	for _, id := range missing {
		waiting = append(waiting, fmt.Sprintf("node %s: no task yet", shortID(id)))
	}
	stale := j.staleLive()
	for _, tk := range stale {
		v.Tasks = append(v.Tasks, j.summary(tk))
	}
	switch {
	case v.Running != v.Desired || len(waiting) > 0:
		v.Phase = PhaseConverging
		v.Message = fmt.Sprintf("%d/%d running", v.Running, v.Desired)
		if len(waiting) > 0 {
			v.Message += "; " + strings.Join(waiting, "; ")
		}
	case len(stale) > 0:
		v.Phase = PhaseConverging
		v.Message = fmt.Sprintf("%d/%d running; %d task(s) of the previous spec still to stop", v.Running, v.Desired, len(stale))
	default:
		window := j.p.Window
		if window == 0 {
			window = StabilityWindow(j.o.Service)
		}
		v.StableAt = latest.Add(max(0, window))
		if now.Before(v.StableAt) {
			v.Phase = PhaseStabilising
			v.Message = fmt.Sprintf("%d/%d running; making sure they stay up for %s", v.Running, v.Desired, max(0, window))
			if len(restarted) > 0 {
				v.Message += "; restarted: " + strings.Join(restarted, "; ")
			}
			return
		}
		v.Phase = PhaseConverged
		v.Message = fmt.Sprintf("%d/%d running", v.Running, v.Desired)
	}
}
