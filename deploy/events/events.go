package events

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/deploy"
)

// Defaults of Options.
const (
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// serviceIDAttr is the attribute of a task container's events that names its service.
const serviceIDAttr = "com.docker.swarm.service.id"

// Options configure Watch.
type Options struct {
	// Engine is the Docker engine. Required.
	Engine deploy.Engine
	// Label, when set, reports only objects that carry this label key (for example
	// swarmrun.dev/testrun): events of everything else are dropped before any lookup.
	Label string
	// MinBackoff and MaxBackoff bound the wait before subscribing again after the stream
	// broke; the wait doubles on each failure in a row and resets once an event arrives.
	MinBackoff, MaxBackoff time.Duration
	// OnHealth, when set, receives the health status ("healthy", "unhealthy", "starting")
	// that a health_status event reports for a container of a reported service.
	OnHealth func(containerID, status string)
}

// Watch subscribes to the engine's service and container events and calls handle with the
// labels of the service each event is about, until ctx ends. It returns nil then; it never
// gives up on a broken stream.
func Watch(ctx context.Context, o Options, handle func(labels map[string]string)) error {
	if o.Engine == nil {
		return fmt.Errorf("watch events: no engine")
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(DefaultMaxBackoff, o.MinBackoff)
	}
	log := logr.FromContextOrDiscard(ctx).WithName("events")
	w := &watcher{o: o, handle: handle, labels: map[string]map[string]string{}}
	backoff := o.MinBackoff
	for {
		got, err := w.stream(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if got {
			backoff = o.MinBackoff
		}
		log.V(1).Info("event stream ended, subscribing again", "error", fmt.Sprint(err), "after", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, o.MaxBackoff)
	}
}

type watcher struct {
	o      Options
	handle func(map[string]string)
	mu     sync.Mutex
	// labels are the services' labels by service ID, as first read.
	labels map[string]map[string]string
}

// stream consumes one subscription until it breaks. got says whether any event arrived.
func (w *watcher) stream(ctx context.Context) (got bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := filters.NewArgs(
		filters.Arg("type", string(events.ServiceEventType)),
		filters.Arg("type", string(events.ContainerEventType)),
	)
	msgs, errs := w.o.Engine.Events(ctx, events.ListOptions{Filters: f})
	for {
		select {
		case <-ctx.Done():
			return got, ctx.Err()
		case err := <-errs:
			return got, err
		case m, ok := <-msgs:
			if !ok {
				return got, nil
			}
			got = true
			if labels := w.labelsOf(ctx, m); labels != nil {
				if status, ok := strings.CutPrefix(string(m.Action), string(events.ActionHealthStatus)+":"); ok && w.o.OnHealth != nil {
					w.o.OnHealth(m.Actor.ID, strings.TrimSpace(status))
				}
				w.handle(labels)
			}
		}
	}
}

// labelsOf returns the labels of the service an event is about, nil when it has none that
// matter (or the service is unknown and gone).
func (w *watcher) labelsOf(ctx context.Context, m events.Message) map[string]string {
	var id string
	switch m.Type {
	case events.ServiceEventType:
		id = m.Actor.ID
	case events.ContainerEventType:
		if w.o.Label != "" && m.Actor.Attributes[w.o.Label] != "" {
			return m.Actor.Attributes
		}
		id = m.Actor.Attributes[serviceIDAttr]
	}
	if id == "" {
		return nil
	}
	labels := w.serviceLabels(ctx, id, m.Action == events.ActionRemove)
	if labels == nil || (w.o.Label != "" && labels[w.o.Label] == "") {
		return nil
	}
	return labels
}

// serviceLabels reads a service's labels once and remembers them; forget drops them after
// this use (the service was removed).
func (w *watcher) serviceLabels(ctx context.Context, id string, forget bool) map[string]string {
	w.mu.Lock()
	labels, ok := w.labels[id]
	if forget {
		delete(w.labels, id)
	}
	w.mu.Unlock()
	if ok {
		return labels
	}
	if forget {
		return nil
	}
	svc, _, err := w.o.Engine.ServiceInspectWithRaw(ctx, id, swarm.ServiceInspectOptions{})
	if err != nil {
		return nil
	}
	labels = svc.Spec.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	w.mu.Lock()
	w.labels[id] = labels
	w.mu.Unlock()
	return labels
}
