package converge

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// DefaultMonitor is the engine's update monitor period, used as the stability window of a
// service whose UpdateConfig does not set one.
const DefaultMonitor = 5 * time.Second

// DefaultHealthInterval is the engine's healthcheck interval when the spec does not set one.
const DefaultHealthInterval = 30 * time.Second

// DefaultMaxFailures is how many consecutive failures of current-spec tasks in one slot fail
// a service when Policy.MaxFailures is zero.
const DefaultMaxFailures = 3

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
// meant to run, and all of them have run for the stability window (timed from the later of
// a task's status timestamp and Observation.SeenRunning). A global service needs the same on every eligible node: a ready, active
// node, or (when the service has placement constraints, which Judge does not evaluate) a node
// that holds a task of the current spec. Jobs have converged when the current iteration's
// tasks completed.
func Judge(o Observation, t Target, p Policy, now time.Time) Verdict {
	svc := o.Service
	v := Verdict{Mode: modeOf(svc)}
	if svc.UpdateStatus != nil {
		v.UpdateState = string(svc.UpdateStatus.State)
	}
	j := judging{o: o, p: p, usable: usableNodes(o.Nodes), health: healthcheckOf(svc)}
	if reason, msg, ok := j.updateFailure(t); ok {
		v.Phase, v.Reason, v.Message = PhaseFailed, reason, msg
		v.Tasks = j.summaries(j.current())
		return v
	}
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
// service whose version moved past PrevVersion belongs to this apply's update.
func (j judging) updateFailure(t Target) (Reason, string, bool) {
	us := j.o.Service.UpdateStatus
	if us == nil || !t.Changed || (t.PrevVersion != 0 && j.o.Service.Version.Index <= t.PrevVersion) {
		return "", "", false
	}
	var reason Reason
	switch us.State {
	case swarm.UpdateStatePaused:
		reason = UpdatePaused
	case swarm.UpdateStateRollbackStarted, swarm.UpdateStateRollbackPaused, swarm.UpdateStateRollbackCompleted:
		reason = RolledBack
	default:
		return "", "", false
	}
	msg := fmt.Sprintf("update %s", us.State)
	if us.Message != "" {
		msg += ": " + us.Message
	}
	// The engine names the task that tripped the failure action; its error is the cause.
	for _, tk := range j.o.Tasks {
		if strings.Contains(us.Message, tk.ID) {
			msg += fmt.Sprintf(" (task %s, image %s, %s: %s)", shortID(tk.ID), imageOf(tk), tk.Status.State, taskErr(tk))
			break
		}
	}
	return reason, msg, true
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

// judgeGroups judges the slots (or nodes) of a long-running service. missing names nodes that
// should hold a task but hold none yet.
func (j judging) judgeGroups(v *Verdict, groups map[string][]swarm.Task, missing []string, now time.Time) {
	var latest time.Time
	var waiting, restarted []string
	for _, key := range sortedKeys(groups) {
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
		v.Tasks = append(v.Tasks, j.summary(newest))
		if f, ok := j.groupFailure(tasks, false); ok {
			if f.task.ID != newest.ID {
				v.Tasks = append(v.Tasks, j.summary(f.task))
			}
			if v.Phase != PhaseFailed {
				v.Phase, v.Reason, v.Message = PhaseFailed, f.reason, f.message
			}
			continue
		}
		waiting = append(waiting, j.summary(newest).String()+j.lastFailure(tasks))
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

func (j judging) replicatedJob(v *Verdict) {
	rj := j.o.Service.Spec.Mode.ReplicatedJob
	v.Desired = 1
	if rj.TotalCompletions != nil {
		v.Desired = int(*rj.TotalCompletions)
	} else if rj.MaxConcurrent != nil {
		v.Desired = int(*rj.MaxConcurrent)
	}
	cur := j.current()
	j.judgeJob(v, groupBy(cur, func(tk swarm.Task) string { return fmt.Sprintf("%09d", tk.Slot) }), cur)
}

func (j judging) globalJob(v *Verdict) {
	cur := j.current()
	groups := groupBy(cur, func(tk swarm.Task) string { return tk.NodeID })
	// The engine creates a global job's tasks on all eligible nodes at once, so the nodes
	// holding tasks of this iteration are the ones that must complete.
	v.Desired = len(groups)
	j.judgeJob(v, groups, cur)
}

func (j judging) judgeJob(v *Verdict, groups map[string][]swarm.Task, cur []swarm.Task) {
	completed := 0
	for _, tk := range cur {
		if tk.Status.State == swarm.TaskStateComplete {
			completed++
		}
	}
	if j.o.Service.Spec.Mode.GlobalJob != nil {
		completed = 0
		for _, tasks := range groups {
			if tasks[0].Status.State == swarm.TaskStateComplete {
				completed++
			}
		}
	}
	v.Running = completed
	var waiting []string
	for _, key := range sortedKeys(groups) {
		tasks := groups[key]
		newest := tasks[0]
		if newest.Status.State == swarm.TaskStateComplete {
			continue
		}
		v.Tasks = append(v.Tasks, j.summary(newest))
		if f, ok := j.groupFailure(tasks, true); ok {
			if f.task.ID != newest.ID {
				v.Tasks = append(v.Tasks, j.summary(f.task))
			}
			if v.Phase != PhaseFailed {
				v.Phase, v.Reason, v.Message = PhaseFailed, f.reason, f.message
			}
			continue
		}
		waiting = append(waiting, j.summary(newest).String()+j.lastFailure(tasks))
	}
	switch {
	case v.Phase == PhaseFailed:
	case len(cur) == 0 || v.Desired == 0:
		v.Phase, v.Message = PhasePending, "waiting for tasks of the current job iteration"
	case completed >= v.Desired:
		v.Phase, v.Message = PhaseConverged, fmt.Sprintf("%d/%d completed", completed, v.Desired)
	default:
		v.Phase = PhaseConverging
		v.Message = fmt.Sprintf("%d/%d completed", completed, v.Desired)
		if len(waiting) > 0 {
			v.Message += "; " + strings.Join(waiting, "; ")
		}
	}
}

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

func (j judging) summaries(tasks []swarm.Task) []TaskSummary {
	sortNewestFirst(tasks)
	var out []TaskSummary
	seen := map[string]bool{}
	for _, tk := range tasks {
		key := fmt.Sprintf("%d/%s", tk.Slot, tk.NodeID)
		if tk.Slot > 0 {
			key = fmt.Sprint(tk.Slot)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, j.summary(tk))
	}
	return out
}

func (j judging) summary(tk swarm.Task) TaskSummary {
	s := TaskSummary{
		ID:           tk.ID,
		Slot:         tk.Slot,
		NodeID:       tk.NodeID,
		Image:        imageOf(tk),
		State:        string(tk.Status.State),
		DesiredState: string(tk.DesiredState),
		Since:        tk.Status.Timestamp,
		Err:          tk.Status.Err,
		UpToDate:     j.o.UpToDate[tk.ID],
	}
	switch {
	case j.unhealthy(tk):
		s.Health = "unhealthy"
	case j.health != nil && tk.Status.State == swarm.TaskStateStarting:
		s.Health = "starting"
	}
	return s
}

func placeOf(tk swarm.Task) string {
	if tk.Slot > 0 {
		return fmt.Sprintf("slot %d", tk.Slot)
	}
	return "node " + shortID(tk.NodeID)
}

func modeOf(svc swarm.Service) string {
	switch m := svc.Spec.Mode; {
	case m.Global != nil:
		return "global"
	case m.ReplicatedJob != nil:
		return "replicated-job"
	case m.GlobalJob != nil:
		return "global-job"
	default:
		return "replicated"
	}
}

// usableNodes are nodes whose tasks count: not down and not drained (a drained node's tasks
// are being moved away).
func usableNodes(nodes []swarm.Node) map[string]bool {
	out := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		out[n.ID] = n.Status.State != swarm.NodeStateDown && n.Spec.Availability != swarm.NodeAvailabilityDrain
	}
	return out
}

func groupBy(tasks []swarm.Task, key func(swarm.Task) string) map[string][]swarm.Task {
	out := map[string][]swarm.Task{}
	for _, tk := range tasks {
		k := key(tk)
		out[k] = append(out[k], tk)
	}
	for _, g := range out {
		sortNewestFirst(g)
	}
	return out
}

// sortNewestFirst orders tasks by creation: the engine creates a replacement after the task it
// replaces, and replacements can wait in desired state "ready", so the newest task of a slot,
// not the one desired running, is the slot's present.
func sortNewestFirst(tasks []swarm.Task) {
	slices.SortStableFunc(tasks, func(a, b swarm.Task) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Version.Index, a.Version.Index); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

func sortedKeys(m map[string][]swarm.Task) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func preRunning(s swarm.TaskState) bool {
	switch s {
	case swarm.TaskStateNew, swarm.TaskStateAllocated, swarm.TaskStatePending, swarm.TaskStateAssigned,
		swarm.TaskStateAccepted, swarm.TaskStatePreparing, swarm.TaskStateReady, swarm.TaskStateStarting:
		return true
	}
	return false
}

func live(tk swarm.Task) bool {
	return tk.DesiredState == swarm.TaskStateRunning || tk.DesiredState == swarm.TaskStateReady
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func imageOf(tk swarm.Task) string {
	if cs := tk.Spec.ContainerSpec; cs != nil {
		return cs.Image
	}
	return ""
}

func taskErr(tk swarm.Task) string {
	if tk.Status.Err != "" {
		return tk.Status.Err
	}
	return tk.Status.Message
}

func describeExit(tk swarm.Task) string {
	if cs := tk.Status.ContainerStatus; cs != nil {
		return fmt.Sprintf("exit code %d", cs.ExitCode)
	}
	return string(tk.Status.State)
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
