package runcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/reconcile"
)

// eventPoll is how often run looks for new events of its TestRun.
const eventPoll = 250 * time.Millisecond

// teardownWait bounds how long run waits, after the verdict, for the stack to be torn down.
const teardownWait = 3 * time.Minute

// printer prints a run's progress: condition changes and events as the controller stores
// them, and one line per service each time its convergence state changes.
type printer struct {
	mu      sync.Mutex
	out     io.Writer
	name    string
	start   time.Time
	conds   map[string]string
	events  map[string]int32
	service map[string]string
}

func newPrinter(out io.Writer, name string) *printer {
	return &printer{out: out, name: name, start: time.Now(), conds: map[string]string{},
		events: map[string]int32{}, service: map[string]string{}}
}

// printf prints one progress line. What it prints comes from the objects and the engine
// (condition messages, events, task errors): control characters are escaped, so that no
// message can drive the terminal.
func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := cli.Printable(fmt.Sprintf(format, args...))
	fmt.Fprintf(p.out, "  [%6.1fs] %s\n", time.Since(p.start).Seconds(), line)
}

// progress is the reconciler's convergence callback.
func (p *printer) progress(pr reconcile.Progress) {
	if pr.TestRun != p.name {
		return
	}
	if pr.Service == nil {
		p.printf("%s converged in %s", pr.Role, pr.Converged.Round(time.Millisecond))
		return
	}
	s := pr.Service
	line := fmt.Sprintf("%d/%d %s", s.Running, s.Desired, strings.ToLower(string(s.Phase)))
	if s.UpdateState != "" {
		line += " (update " + s.UpdateState + ")"
	}
	if s.Message != "" {
		line += ": " + s.Message
	}
	key := pr.Role + "/" + s.Service
	p.mu.Lock()
	same := p.service[key] == line
	p.service[key] = line
	p.mu.Unlock()
	if !same {
		p.printf("%s %s %s", pr.Role, s.Service, line)
	}
}

// follow prints the TestRun's changes until it has its verdict and, when its policy tears the
// stack down, the stack is gone. It reads the TestRun first and then watches from it, so no
// change is missed.
func (p *printer) follow(ctx context.Context, st *store.Store, engine deploy.Engine, done <-chan error) (*v1alpha1.TestRun, error) {
	tr := &v1alpha1.TestRun{}
	if err := st.Get(ctx, p.name, tr); err != nil {
		return nil, cli.Invalid(err)
	}
	ch, err := st.Watch(ctx, v1alpha1.KindTestRun, tr.ResourceVersion)
	if err != nil {
		return nil, cli.Invalid(err)
	}
	// Events do not change the TestRun, so they are also polled.
	tick := time.NewTicker(eventPoll)
	defer tick.Stop()
	for {
		p.show(ctx, st, tr)
		if c := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionSucceeded); c != nil && c.Status != v1alpha1.ConditionUnknown {
			return tr, p.awaitTeardown(ctx, engine, tr, done)
		}
		select {
		case <-ctx.Done():
			return nil, cli.Invalid(fmt.Errorf("testrun %s interrupted: %w", p.name, ctx.Err()))
		case err := <-done:
			return nil, controllerStopped(err)
		case <-tick.C:
		case ev, ok := <-ch:
			if !ok || ev.Type == store.Relist {
				// Fell behind: read again and watch from there.
				if err := st.Get(ctx, p.name, tr); err != nil {
					return nil, cli.Invalid(err)
				}
				if ch, err = st.Watch(ctx, v1alpha1.KindTestRun, tr.ResourceVersion); err != nil {
					return nil, cli.Invalid(err)
				}
				continue
			}
			if next, isRun := ev.Object.(*v1alpha1.TestRun); isRun && next.Name == p.name {
				if ev.Type == store.Deleted {
					return nil, cli.Failed(fmt.Errorf("testrun %s was deleted", p.name))
				}
				tr = next
			}
		}
	}
}

// show prints the conditions that changed and the events not printed yet.
func (p *printer) show(ctx context.Context, st *store.Store, tr *v1alpha1.TestRun) {
	for _, c := range tr.Status.Conditions {
		state := string(c.Status) + " " + c.Reason
		if p.conds[c.Type] == state {
			continue
		}
		p.conds[c.Type] = state
		p.printf("%s %s %s: %s", c.Type, c.Status, c.Reason, c.Message)
	}
	events, err := st.Events(ctx, v1alpha1.KindTestRun, p.name)
	if err != nil {
		return
	}
	for _, e := range events {
		key := string(e.Type) + "/" + e.Reason + "/" + e.Message
		if p.events[key] == e.Count {
			continue
		}
		p.events[key] = e.Count
		p.printf("event %s %s: %s", e.Type, e.Reason, e.Message)
	}
}

// awaitTeardown waits until the stack of a finished run is gone, when its policy removes it.
func (p *printer) awaitTeardown(ctx context.Context, engine deploy.Engine, tr *v1alpha1.TestRun, done <-chan error) error {
	succeeded := apimeta.IsStatusConditionTrue(tr.Status.Conditions, v1alpha1.ConditionSucceeded)
	if tr.Spec.Teardown == v1alpha1.TeardownNever || (tr.Spec.Teardown == v1alpha1.TeardownOnSuccess && !succeeded) || tr.Status.Stack == "" {
		return nil
	}
	d := deploy.New(deploy.Options{Engine: engine})
	ctx, cancel := context.WithTimeout(ctx, teardownWait)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		state, err := d.Observe(ctx, tr.Status.Stack)
		if err == nil && !state.Exists() {
			p.printf("stack %s torn down", tr.Status.Stack)
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return cli.Invalid(fmt.Errorf("stack %s still there %s after the verdict", tr.Status.Stack, teardownWait))
			}
			return cli.Invalid(ctx.Err())
		case err := <-done:
			return controllerStopped(err)
		case <-tick.C:
		}
	}
}
