package converge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/go-logr/logr"
)

// DefaultPoll is how often Wait looks when no event wakes it.
const DefaultPoll = time.Second

// finalLookTimeout bounds the last observation taken when the wait times out, which refreshes
// the task states the timeout error reports.
const finalLookTimeout = 3 * time.Second

// serviceIDLabel is the label the engine puts on a task's container.
const serviceIDLabel = "com.docker.swarm.service.id"

// Options tune Wait and Look. The zero value waits until ctx ends, with the defaults below.
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
	// Health, when set, gives Look the health statuses reported by container events since
	// the last look, by container ID (Wait subscribes to the events itself).
	Health func() map[string]string
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
// passes. It judges all services in each look (Look), wakes on the engine's service, node and
// container events, and polls as a fallback. The report is returned in every case; the error
// is an *Error when a service failed or the bound passed.
func Wait(ctx context.Context, e Engine, targets []Target, o Options) (*Report, error) {
	o = o.withDefaults()
	w := &waiter{
		e:      e,
		o:      o,
		log:    logr.FromContextOrDiscard(ctx).WithName("converge"),
		health: map[string]string{},
		seen:   map[string]Progress{},
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	var err error
	if w.targets, err = resolveTargets(ctx, e, targets); err != nil {
		return &Report{}, err
	}
	w.last = &Step{Report: report(w.targets, Memo{Start: o.Now()}, o.Now())}
	return w.run(ctx)
}

type waiter struct {
	e       Engine
	o       Options
	log     logr.Logger
	targets []Target
	memo    Memo
	// last is the step of the last look.
	last *Step
	// health is the health status per container reported since the last look.
	health map[string]string
	// seen is the last progress reported per service.
	seen map[string]Progress
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
			return w.last.Report, err
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
			if !w.last.WakeAt.IsZero() {
				wake = earliest(wake, w.last.WakeAt)
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

// look takes one Look at every service and reports progress. It returns done when every
// service is converged in this look or one failed (with the *Error). A service that
// converged earlier is judged again: success means the whole stack is converged at once, and
// a rollback the engine starts after a service looked converged still fails the wait.
func (w *waiter) look(ctx context.Context) (bool, error) {
	o := w.o
	health := w.health
	w.health = map[string]string{}
	o.Health = func() map[string]string { return health }
	step, err := Look(ctx, w.e, w.targets, w.memo, o)
	if err != nil {
		return false, err
	}
	if step.Unsettled {
		w.log.V(1).Info("services changing while observed: looking again later")
		w.memo = step.Memo
		return false, nil
	}
	for _, p := range step.Progress {
		w.notify(p, w.memo.Services[p.Service], step.Memo.Services[p.Service])
	}
	w.memo, w.last = step.Memo, step
	if step.Err != nil {
		return true, step.Err
	}
	return step.Done, nil
}

// end returns the outcome once ctx is done: a Timeout *Error when a deadline passed, after a
// last look that refreshes the task states it reports.
func (w *waiter) end(ctx context.Context) (*Report, error) {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return w.last.Report, fmt.Errorf("wait for convergence: %w", ctx.Err())
	}
	final, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalLookTimeout)
	defer cancel()
	if done, err := w.look(final); done {
		// Everything converged at the last moment, or a failure explains more than a timeout.
		return w.last.Report, err
	}
	return w.last.Report, w.last.TimedOut(w.o.Now())
}

// notify reports a service's progress when it changed, and logs convergence.
func (w *waiter) notify(p Progress, before, after ServiceMemo) {
	if after.Phase == PhaseConverged && before.ConvergedAt.IsZero() {
		w.log.Info("service converged", "service", p.Service, "after", after.ConvergedAt.Sub(w.memo.Start))
	}
	if before.Phase == PhaseConverged && after.Phase != PhaseConverged && after.Phase != PhaseFailed {
		w.log.Info("service no longer converged", "service", p.Service, "phase", after.Phase, "message", after.Message)
	}
	if prev, ok := w.seen[p.Service]; ok && prev == p {
		return
	}
	w.seen[p.Service] = p
	w.log.V(1).Info("service progress", "service", p.Service, "phase", p.Phase, "running", p.Running, "desired", p.Desired, "message", p.Message)
	if w.o.Progress != nil {
		w.o.Progress(p)
	}
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
	var id string
	switch ev.Type {
	case events.NodeEventType:
		return true
	case events.ServiceEventType:
		id = ev.Actor.ID
	case events.ContainerEventType:
		id = ev.Actor.Attributes[serviceIDLabel]
	}
	for _, t := range w.targets {
		if t.ServiceID == id {
			return w.memo.Services[t.Name].Phase != PhaseFailed
		}
	}
	return false
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
