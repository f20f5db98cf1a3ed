package stack

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/converge"
)

// TargetsOf are the convergence targets a deploy record keeps.
func TargetsOf(rec *v1alpha1.DeployRecord) []Target {
	out := make([]Target, 0, len(rec.Targets))
	for _, t := range rec.Targets {
		out = append(out, Target{ServiceID: t.ID, Name: t.Name, PrevVersion: t.PrevVersion, Changed: t.Changed})
	}
	return out
}

// RecordTargets are targets as a deploy record keeps them.
func RecordTargets(targets []Target) []v1alpha1.DeployTarget {
	out := make([]v1alpha1.DeployTarget, 0, len(targets))
	for _, t := range targets {
		out = append(out, v1alpha1.DeployTarget{Name: t.Name, ID: t.ServiceID, PrevVersion: t.PrevVersion, Changed: t.Changed})
	}
	return out
}

// MemoOf is the memo a deploy record's convergence keeps; an empty memo when there is none.
func MemoOf(c *v1alpha1.Convergence) Memo {
	if c == nil {
		return Memo{}
	}
	m := Memo{Start: c.FirstLook, LastChange: c.LastChange, SeenRunning: maps.Clone(c.SeenRunning),
		Health: maps.Clone(c.Health), Services: make(map[string]ServiceMemo, len(c.Services))}
	for _, s := range c.Services {
		m.Services[s.Name] = ServiceMemo{Phase: converge.Phase(s.Phase), Reason: converge.Reason(s.Reason),
			Running: s.Running, Desired: s.Desired, UpdateState: s.UpdateState, Message: s.Message, ConvergedAt: s.ConvergedAt}
	}
	return m
}

// ConvergenceOf is a memo as a deploy record keeps it.
func ConvergenceOf(m Memo) *v1alpha1.Convergence {
	c := &v1alpha1.Convergence{FirstLook: m.Start, LastChange: m.LastChange, SeenRunning: maps.Clone(m.SeenRunning),
		Health: maps.Clone(m.Health)}
	if len(c.SeenRunning) == 0 {
		c.SeenRunning = nil
	}
	if len(c.Health) == 0 {
		c.Health = nil
	}
	for _, name := range slices.Sorted(maps.Keys(m.Services)) {
		s := m.Services[name]
		c.Services = append(c.Services, v1alpha1.ServiceConvergence{Name: name, Phase: string(s.Phase), Reason: string(s.Reason),
			Running: s.Running, Desired: s.Desired, UpdateState: s.UpdateState, Message: s.Message, ConvergedAt: s.ConvergedAt})
	}
	return c
}

// Record is the deploy record of an apply of pr at commit: what it did, and the targets its
// convergence is judged against. Looks (LookAt) fill in the rest.
func (pr *Prepared) Record(a *Applied, commit string) v1alpha1.DeployRecord {
	started := v1alpha1.Time{Time: a.StartedAt}
	return v1alpha1.DeployRecord{
		Role: pr.Role, Commit: commit, ComposeFiles: pr.Files, RenderDigest: pr.Digest, Images: a.Images,
		Created: a.Created, Updated: a.Updated, Unchanged: a.Unchanged, StartedAt: &started,
		Targets: RecordTargets(a.Targets),
	}
}

// Looked is the outcome of one look at a recorded deploy.
type Looked struct {
	// Step is the look itself: progress per service, the report.
	Step *Step
	// Before is the memo the look started from, to tell what changed.
	Before Memo
	// Changed says the record changed (its convergence or its end) and should be stored.
	Changed bool
	// Done says the deploy converged: the record's ConvergedAt is set.
	Done bool
	// Err ends the deploy: a service failed, or the deploy was not converged when its
	// timeout passed (a *ConvergeError either way).
	Err error
	// Again is when to look next, when neither Done nor Err.
	Again time.Duration
}

// LookAt takes one look at the deploy rec records and writes what it found into rec: the
// convergence memo, and ConvergedAt once the whole deploy converged. timeout bounds the
// deploy from its recorded apply, on the caller's clock (now), so a deploy resumed after a
// restart gets what is left of its bound, not a fresh one. The services are judged on the
// pipeline's clock, the one the engine's task timestamps are on.
func (p *Pipeline) LookAt(ctx context.Context, rec *v1alpha1.DeployRecord, timeout time.Duration, now time.Time) (*Looked, error) {
	before := MemoOf(rec.Convergence)
	deadline := now.Add(time.Hour)
	if rec.StartedAt != nil && timeout > 0 {
		deadline = rec.StartedAt.Add(timeout)
	}
	last := !now.Before(deadline)
	lookCtx := ctx
	if last {
		// The bound has passed: one last look, itself bounded, tells a deploy that converged
		// at the last moment (or failed) from one that timed out.
		var cancel context.CancelFunc
		lookCtx, cancel = context.WithTimeout(ctx, lastLookTimeout)
		defer cancel()
	}
	step, err := p.Look(lookCtx, TargetsOf(rec), before)
	if err != nil && last && ctx.Err() == nil {
		step = &Step{Memo: before, Report: lastReport(rec, before)}
	} else if err != nil {
		return nil, fmt.Errorf("look at %s: %w", rec.Role, err)
	}
	l := &Looked{Step: step, Before: before,
		Changed: !step.Memo.LastChange.Equal(before.LastChange) || !step.Memo.Start.Equal(before.Start)}
	rec.Convergence = ConvergenceOf(step.Memo)
	switch {
	case step.Err != nil:
		l.Err, l.Changed = step.Err, true
	case step.Done:
		done := v1alpha1.Time{Time: p.now()}
		rec.ConvergedAt, l.Done, l.Changed = &done, true, true
	case !now.Before(deadline):
		l.Err, l.Changed = step.TimedOut(now), true
	case step.Unsettled:
		l.Again = 4 * MinLookDelay
	default:
		l.Again = min(NextLook(step, p.now()), deadline.Sub(now))
	}
	return l, nil
}

// lastLookTimeout bounds the look taken once a deploy's bound has passed.
const lastLookTimeout = 3 * time.Second

// lastReport describes the deploy's services as the memo last saw them.
func lastReport(rec *v1alpha1.DeployRecord, m Memo) *Report {
	r := &Report{}
	for _, t := range rec.Targets {
		sm := m.Services[t.Name]
		phase := sm.Phase
		if phase == "" {
			phase = converge.PhasePending
		}
		r.Services = append(r.Services, converge.ServiceReport{Name: t.Name, ServiceID: t.ID, Phase: phase,
			Running: sm.Running, Desired: sm.Desired, UpdateState: sm.UpdateState, Message: sm.Message, ConvergedAt: sm.ConvergedAt})
	}
	return r
}

// Changes are the progress entries of services whose state changed in the look.
func (l *Looked) Changes() []Progress {
	var out []Progress
	for _, p := range l.Step.Progress {
		was, ok := l.Before.Services[p.Service]
		if ok && was.Phase == p.Phase && was.Running == p.Running && was.Desired == p.Desired && was.Message == p.Message {
			continue
		}
		out = append(out, p)
	}
	return out
}
