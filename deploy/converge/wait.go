package converge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/go-logr/logr"
)

// DefaultPoll is how often Wait looks when no event wakes it.
const DefaultPoll = time.Second

// finalLookTimeout bounds the last observation taken when the wait times out, which refreshes
// the task states the timeout error reports.
const finalLookTimeout = 3 * time.Second

// serviceIDLabel is the label the engine puts on a task's container.
const serviceIDLabel = "com.docker.swarm.service.id"

// Options tune Wait. The zero value waits until ctx ends, with the defaults below.
type Options struct {
	// Timeout bounds the whole wait; zero leaves the bound to ctx. When it (or a deadline of
	// ctx) passes, Wait returns an *Error with Reason Timeout listing every service that had
	// not converged. It is a context deadline, so it runs on the wall clock whatever Now is.
	Timeout time.Duration
	// Poll is how often Wait looks without an event; zero means DefaultPoll.
	Poll time.Duration
	// Stable is Policy.Window: zero uses each service's StabilityWindow.
	Stable time.Duration
	// MaxFailures is Policy.MaxFailures.
	MaxFailures int
	// Progress, when set, is called with a service's progress each time it changes, from the
	// goroutine that called Wait; it must return quickly.
	Progress func(Progress)
	// Now is the clock; nil means time.Now. Judge compares it with the engine's task
	// timestamps, and Wait's timers sleep for differences of it, so a stopped clock stops
	// stability windows from ever ending: give such a clock a negative Stable.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Wait waits until every target service has converged (see Judge), one fails, or the bound
// passes. It judges all services in each look, wakes on the engine's service, node and
// container events, and polls as a fallback. The report is returned in every case; the error
// is an *Error when a service failed or the bound passed.
func Wait(ctx context.Context, e Engine, targets []Target, o Options) (*Report, error) {
	o = o.withDefaults()
	w := &waiter{
		e:           e,
		o:           o,
		start:       o.Now(),
		log:         logr.FromContextOrDiscard(ctx).WithName("converge"),
		health:      map[string]string{},
		seenRunning: map[string]time.Time{},
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	if err := w.resolve(ctx, targets); err != nil {
		return w.report(), err
	}
	return w.run(ctx)
}

type waiter struct {
	e     Engine
	o     Options
	start time.Time
	log   logr.Logger
	svcs  []*tracked
	byID  map[string]*tracked
	// health is the last health status per container, from events.
	health map[string]string
	// seenRunning is when each task was first seen running (zero: at the first look).
	seenRunning map[string]time.Time
	looked      bool
}

// tracked is one target and what Wait last learnt about it.
type tracked struct {
	Target
	verdict     Verdict
	progress    Progress
	seen        bool
	convergedAt time.Time
}

func (t *tracked) failed() bool { return t.verdict.Phase == PhaseFailed }

func (w *waiter) resolve(ctx context.Context, targets []Target) error {
	w.byID = make(map[string]*tracked, len(targets))
	for _, t := range targets {
		if t.ServiceID == "" {
			svc, _, err := w.e.ServiceInspectWithRaw(ctx, t.Name, swarm.ServiceInspectOptions{})
			if err != nil {
				return fmt.Errorf("inspect service %s: %w", t.Name, err)
			}
			t.ServiceID = svc.ID
		}
		if t.Name == "" {
			t.Name = t.ServiceID
		}
		if w.byID[t.ServiceID] != nil {
			continue
		}
		tr := &tracked{Target: t, verdict: Verdict{Phase: PhasePending}}
		w.svcs = append(w.svcs, tr)
		w.byID[t.ServiceID] = tr
	}
	return nil
}

func (w *waiter) run(ctx context.Context) (*Report, error) {
	evCtx, stopEvents := context.WithCancel(ctx)
	defer stopEvents()
	// Subscribe before the first look, so that no change between the two goes unnoticed.
	evs, evErrs := w.subscribe(evCtx)
	var echo echoes
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		lastLook := w.o.Now()
		done, err := w.look(ctx)
		if done || (err != nil && ctx.Err() == nil) {
			return w.report(), err
		}
		if ctx.Err() != nil {
			return w.end(ctx)
		}
		echo.looked(lastLook)
	wait:
		for {
			now := w.o.Now()
			wake := lastLook.Add(w.o.Poll)
			if !echo.at.IsZero() {
				wake = earliest(wake, echo.at)
			}
			for _, t := range w.svcs {
				if t.verdict.Phase == PhaseStabilising {
					wake = earliest(wake, t.verdict.StableAt)
				}
			}
			timer.Reset(max(0, wake.Sub(now)))
			select {
			case <-ctx.Done():
				return w.end(ctx)
			case <-timer.C:
				if evs == nil {
					evs, evErrs = w.subscribe(evCtx)
				}
				break wait
			case err := <-evErrs:
				// The stream broke (or the engine restarted): poll, and subscribe again at the
				// next look.
				w.log.V(1).Info("event stream ended", "error", err)
				evs, evErrs = nil, nil
			case ev := <-evs:
				if w.relevant(ev) {
					w.record(ev)
					w.drain(evs)
					echo.event(w.o.Now(), lastLook)
				}
			}
		}
	}
}

// look observes every service once, judges each, and reports progress. It returns done when
// every service is converged in this look or one failed (with the *Error). A service that
// converged earlier is judged again: success means the whole stack is converged at once, and
// a rollback the engine starts after a service looked converged still fails the wait.
func (w *waiter) look(ctx context.Context) (bool, error) {
	var ids []string
	for _, t := range w.svcs {
		if !t.failed() {
			ids = append(ids, t.ServiceID)
		}
	}
	if len(ids) == 0 {
		return true, nil
	}
	obs, err := observe(ctx, w.e, ids)
	if errors.Is(err, errUnsettled) {
		w.log.V(1).Info("services changing while observed: looking again later")
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("observe services: %w", err)
	}
	now := w.o.Now()
	for _, ob := range obs {
		for _, tk := range ob.Tasks {
			if _, ok := w.seenRunning[tk.ID]; !ok && tk.Status.State == swarm.TaskStateRunning {
				seen := now
				if !w.looked {
					seen = time.Time{}
				}
				w.seenRunning[tk.ID] = seen
			}
		}
	}
	w.looked = true
	policy := Policy{Window: w.o.Stable, MaxFailures: w.o.MaxFailures}
	var failures []ServiceFailure
	converged := true
	for _, t := range w.svcs {
		ob, ok := obs[t.ServiceID]
		if ok {
			ob.Health, ob.SeenRunning = w.health, w.seenRunning
			t.verdict = Judge(ob, t.Target, policy, now)
		} else {
			t.verdict = Verdict{Phase: PhaseFailed, Reason: ServiceRemoved, Message: "service was removed while waiting",
				Mode: t.verdict.Mode, Tasks: t.verdict.Tasks}
		}
		w.notify(t)
		switch t.verdict.Phase {
		case PhaseConverged:
			if t.convergedAt.IsZero() {
				t.convergedAt = now
				w.log.Info("service converged", "service", t.Name, "after", now.Sub(w.start))
			}
		case PhaseFailed:
			failures = append(failures, ServiceFailure{Service: t.Name, Reason: t.verdict.Reason, Message: t.verdict.Message, Tasks: t.verdict.Tasks})
		default:
			converged = false
			if !t.convergedAt.IsZero() {
				t.convergedAt = time.Time{}
				w.log.Info("service no longer converged", "service", t.Name, "phase", t.verdict.Phase, "message", t.verdict.Message)
			}
		}
	}
	if len(failures) > 0 {
		return true, newError(failures[0].Reason, failures, now.Sub(w.start))
	}
	return converged, nil
}

// end returns the outcome once ctx is done: a Timeout *Error when a deadline passed, after a
// last look that refreshes the task states it reports.
func (w *waiter) end(ctx context.Context) (*Report, error) {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return w.report(), fmt.Errorf("wait for convergence: %w", ctx.Err())
	}
	final, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalLookTimeout)
	defer cancel()
	if done, err := w.look(final); done {
		// Everything converged at the last moment, or a failure explains more than a timeout.
		return w.report(), err
	}
	var failures []ServiceFailure
	for _, t := range w.svcs {
		if t.verdict.Phase != PhaseConverged {
			failures = append(failures, ServiceFailure{Service: t.Name, Reason: Timeout, Message: t.verdict.Message, Tasks: t.verdict.Tasks})
		}
	}
	return w.report(), newError(Timeout, failures, w.o.Now().Sub(w.start))
}

func (w *waiter) notify(t *tracked) {
	p := Progress{
		Service:     t.Name,
		Mode:        t.verdict.Mode,
		Running:     t.verdict.Running,
		Desired:     t.verdict.Desired,
		UpdateState: t.verdict.UpdateState,
		Phase:       t.verdict.Phase,
		Message:     t.verdict.Message,
	}
	if t.seen && p == t.progress {
		return
	}
	t.seen, t.progress = true, p
	w.log.V(1).Info("service progress", "service", p.Service, "phase", p.Phase, "running", p.Running, "desired", p.Desired, "message", p.Message)
	if w.o.Progress != nil {
		w.o.Progress(p)
	}
}

func (w *waiter) report() *Report {
	now := w.o.Now()
	r := &Report{Elapsed: now.Sub(w.start)}
	for _, t := range w.svcs {
		sr := ServiceReport{
			Name:        t.Name,
			ServiceID:   t.ServiceID,
			Mode:        t.verdict.Mode,
			Phase:       t.verdict.Phase,
			ConvergedAt: t.convergedAt,
			Duration:    now.Sub(w.start),
			Running:     t.verdict.Running,
			Desired:     t.verdict.Desired,
			UpdateState: t.verdict.UpdateState,
			Message:     t.verdict.Message,
			Tasks:       t.verdict.Tasks,
		}
		if !t.convergedAt.IsZero() {
			sr.Duration = t.convergedAt.Sub(w.start)
		}
		r.Services = append(r.Services, sr)
	}
	return r
}

// subscribe asks for the events that can change a target's state. Health checks also emit
// exec events on every probe; the action filter keeps them off the stream.
func (w *waiter) subscribe(ctx context.Context) (<-chan events.Message, <-chan error) {
	f := filters.NewArgs(
		filters.Arg("type", string(events.ServiceEventType)),
		filters.Arg("type", string(events.NodeEventType)),
		filters.Arg("type", string(events.ContainerEventType)),
	)
	for _, a := range []events.Action{events.ActionCreate, events.ActionUpdate, events.ActionRemove, events.ActionStart,
		events.ActionDie, events.ActionHealthStatus, events.ActionOOM} {
		f.Add("event", string(a))
	}
	return w.e.Events(ctx, events.ListOptions{Filters: f})
}

func (w *waiter) relevant(ev events.Message) bool {
	var t *tracked
	switch ev.Type {
	case events.NodeEventType:
		return true
	case events.ServiceEventType:
		t = w.byID[ev.Actor.ID]
	case events.ContainerEventType:
		t = w.byID[ev.Actor.Attributes[serviceIDLabel]]
	}
	return t != nil && !t.failed()
}

// drain takes the events already queued, keeping what they say about health: one look covers
// them all.
func (w *waiter) drain(evs <-chan events.Message) {
	for {
		select {
		case ev, ok := <-evs:
			if !ok {
				return
			}
			if w.relevant(ev) {
				w.record(ev)
			}
		default:
			return
		}
	}
}

// record keeps the last health status of each container of a target.
func (w *waiter) record(ev events.Message) {
	if ev.Type != events.ContainerEventType {
		return
	}
	if status, ok := strings.CutPrefix(string(ev.Action), string(events.ActionHealthStatus)+":"); ok {
		w.health[ev.Actor.ID] = strings.TrimSpace(status)
	}
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
