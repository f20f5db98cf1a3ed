package converge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// Memo is what an observer of one deploy keeps from one look to the next, so that looks taken
// in different calls, or by a restarted process, judge the services as one Wait would. A
// caller that observes step by step (a reconciler) stores it with the deploy and passes it
// back to the next Look; Wait keeps it in memory.
type Memo struct {
	// Start is when the first look was taken; zero before it.
	Start time.Time
	// LastChange is when a look last saw anything change: a service's phase, counts or
	// message, or a task first seen running.
	LastChange time.Time
	// SeenRunning is when each task was first seen running; zero for tasks already running
	// at the first look (see Observation.SeenRunning).
	SeenRunning map[string]time.Time
	// Health is the last health status reported for each container ("starting", "healthy",
	// "unhealthy"), the only way to tell a health loop from a crash loop (see
	// Observation.Health).
	Health map[string]string
	// Services is what the last look found for each target, by service name.
	Services map[string]ServiceMemo
}

// ServiceMemo is one service as the last look judged it.
type ServiceMemo struct {
	Phase Phase
	// Reason is why a Failed service failed.
	Reason           Reason
	Running, Desired int
	UpdateState      string
	Message          string
	// ConvergedAt is when the service was first judged converged in the current streak.
	ConvergedAt time.Time
}

// Clone returns a deep copy of m.
func (m Memo) Clone() Memo {
	m.SeenRunning = maps.Clone(m.SeenRunning)
	m.Health = maps.Clone(m.Health)
	m.Services = maps.Clone(m.Services)
	return m
}

// Step is the outcome of one Look.
type Step struct {
	// Done: every target was converged in this look.
	Done bool
	// Err is set when a target failed in this look (Done is false then).
	Err *Error
	// Unsettled: the services changed while they were listed, so this look judged nothing;
	// look again soon.
	Unsettled bool
	// WakeAt is when a service that is stabilising would count as converged if nothing
	// changed; zero when none is.
	WakeAt time.Time
	// Progress holds one entry per target, in target order.
	Progress []Progress
	// Report describes every target as of this look.
	Report *Report
	// Memo is the memo to pass to the next look.
	Memo Memo
}

// Look takes one consistent observation of the targets (see Wait) and judges every one of
// them, with what memo remembers of earlier looks. It waits for nothing: a caller that is
// not done looks again later, when an event of the stack wakes it or at Step.WakeAt, and
// decides itself when the deploy has taken too long (TimedOut). Targets without a ServiceID
// are resolved by name first. Only Options.Stable, MaxFailures and Now are used.
func Look(ctx context.Context, e Engine, targets []Target, memo Memo, o Options) (*Step, error) {
	o = o.withDefaults()
	targets, err := resolveTargets(ctx, e, targets)
	if err != nil {
		return nil, err
	}
	memo = memo.Clone()
	now := o.Now()
	first := memo.Start.IsZero()
	if first {
		memo.Start = now
		memo.LastChange = now
	}
	if memo.SeenRunning == nil {
		memo.SeenRunning = map[string]time.Time{}
	}
	if memo.Health == nil {
		memo.Health = map[string]string{}
	}
	if memo.Services == nil {
		memo.Services = map[string]ServiceMemo{}
	}
	ids := make([]string, 0, len(targets))
	for _, t := range targets {
		if memo.Services[t.Name].Phase != PhaseFailed {
			ids = append(ids, t.ServiceID)
		}
	}
	step := &Step{Memo: memo}
	if len(ids) == 0 {
		step.Done = true
		step.Report = report(targets, step.Memo, now)
		return step, nil
	}
	obs, err := observe(ctx, e, ids)
	if errors.Is(err, errUnsettled) {
		step.Unsettled = true
		step.Report = report(targets, step.Memo, now)
		return step, nil
	}
	if err != nil {
		return nil, fmt.Errorf("observe services: %w", err)
	}
	var health map[string]string
	if o.Health != nil {
		health = o.Health()
	}
	step.judge(targets, obs, health, Policy{Window: o.Stable, MaxFailures: o.MaxFailures}, first, now)
	return step, nil
}

// judge judges every target in one observation and fills the step in.
func (s *Step) judge(targets []Target, obs map[string]Observation, health map[string]string, p Policy, first bool, now time.Time) {
	m := &s.Memo
	live := map[string]bool{}
	for _, ob := range obs {
		for _, tk := range ob.Tasks {
			live[tk.ID] = true
			if cs := tk.Status.ContainerStatus; cs != nil && cs.ContainerID != "" {
				live[cs.ContainerID] = true
				if status, ok := health[cs.ContainerID]; ok && m.Health[cs.ContainerID] != status {
					m.Health[cs.ContainerID] = status
					m.LastChange = now
				}
			}
			if _, ok := m.SeenRunning[tk.ID]; !ok && tk.Status.State == swarm.TaskStateRunning {
				seen := now
				if first {
					seen = time.Time{}
				}
				m.SeenRunning[tk.ID] = seen
				m.LastChange = now
			}
		}
	}
	// Tasks the engine no longer keeps need no memory: the memo stays as small as the stack.
	for id := range m.SeenRunning {
		if !live[id] {
			delete(m.SeenRunning, id)
		}
	}
	for id := range m.Health {
		if !live[id] {
			delete(m.Health, id)
		}
	}
	var failures []ServiceFailure
	converged := true
	verdicts := map[string]Verdict{}
	for _, t := range targets {
		prev := m.Services[t.Name]
		var v Verdict
		switch ob, ok := obs[t.ServiceID]; {
		case prev.Phase == PhaseFailed:
			v = Verdict{Phase: PhaseFailed, Reason: prev.Reason, Message: prev.Message}
		case ok:
			ob.Health, ob.SeenRunning = m.Health, m.SeenRunning
			v = Judge(ob, t, p, now)
		default:
			v = Verdict{Phase: PhaseFailed, Reason: ServiceRemoved, Message: "service was removed while waiting"}
		}
		verdicts[t.Name] = v
		sm := ServiceMemo{Phase: v.Phase, Reason: v.Reason, Running: v.Running, Desired: v.Desired, UpdateState: v.UpdateState,
			Message: v.Message, ConvergedAt: prev.ConvergedAt}
		switch v.Phase {
		case PhaseConverged:
			if sm.ConvergedAt.IsZero() {
				sm.ConvergedAt = now
			}
		case PhaseFailed:
			sm.ConvergedAt = time.Time{}
			failures = append(failures, ServiceFailure{Service: t.Name, Reason: v.Reason, Message: v.Message, Tasks: v.Tasks})
		case PhaseStabilising:
			sm.ConvergedAt = time.Time{}
			converged = false
			if s.WakeAt.IsZero() || v.StableAt.Before(s.WakeAt) {
				s.WakeAt = v.StableAt
			}
		default:
			sm.ConvergedAt = time.Time{}
			converged = false
		}
		if sm.Phase != prev.Phase || sm.Running != prev.Running || sm.Desired != prev.Desired || sm.Message != prev.Message {
			m.LastChange = now
		}
		m.Services[t.Name] = sm
		s.Progress = append(s.Progress, Progress{Service: t.Name, Mode: v.Mode, Running: v.Running, Desired: v.Desired,
			UpdateState: v.UpdateState, Phase: v.Phase, Message: v.Message})
	}
	s.Report = report(targets, *m, now)
	for i := range s.Report.Services {
		s.Report.Services[i].Mode = verdicts[s.Report.Services[i].Name].Mode
		s.Report.Services[i].Tasks = verdicts[s.Report.Services[i].Name].Tasks
	}
	switch {
	case len(failures) > 0:
		s.Err = newError(failures[0].Reason, failures, now.Sub(m.Start))
	case converged:
		s.Done = true
	}
}

// TimedOut is the error of a deploy that has not converged when its bound passed, from the
// last look's step: every service not converged then, with what it waited for.
func (s *Step) TimedOut(now time.Time) *Error {
	var failures []ServiceFailure
	for _, sr := range s.Report.Services {
		if sr.Phase != PhaseConverged {
			failures = append(failures, ServiceFailure{Service: sr.Name, Reason: Timeout, Message: sr.Message, Tasks: sr.Tasks})
		}
	}
	return newError(Timeout, failures, now.Sub(s.Memo.Start))
}

// report describes the targets as the memo has them.
func report(targets []Target, m Memo, now time.Time) *Report {
	r := &Report{Elapsed: now.Sub(m.Start)}
	for _, t := range targets {
		sm := m.Services[t.Name]
		sr := ServiceReport{
			Name: t.Name, ServiceID: t.ServiceID, Phase: sm.Phase, ConvergedAt: sm.ConvergedAt,
			Duration: now.Sub(m.Start), Running: sm.Running, Desired: sm.Desired, UpdateState: sm.UpdateState,
			Message: sm.Message,
		}
		if sr.Phase == "" {
			sr.Phase = PhasePending
		}
		if !sm.ConvergedAt.IsZero() {
			sr.Duration = sm.ConvergedAt.Sub(m.Start)
		}
		r.Services = append(r.Services, sr)
	}
	return r
}

// resolveTargets gives every target its service ID (by name, once) and a name, dropping
// duplicates.
func resolveTargets(ctx context.Context, e Engine, targets []Target) ([]Target, error) {
	out := make([]Target, 0, len(targets))
	seen := map[string]bool{}
	for _, t := range targets {
		if t.ServiceID == "" {
			svc, _, err := e.ServiceInspectWithRaw(ctx, t.Name, swarm.ServiceInspectOptions{})
			if err != nil {
				return nil, fmt.Errorf("inspect service %s: %w", t.Name, err)
			}
			t.ServiceID = svc.ID
		}
		if t.Name == "" {
			t.Name = t.ServiceID
		}
		if seen[t.ServiceID] {
			continue
		}
		seen[t.ServiceID] = true
		out = append(out, t)
	}
	return out, nil
}
