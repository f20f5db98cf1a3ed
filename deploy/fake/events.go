package fake

import (
	"context"
	"sync"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// subscriber is one Events stream: emit queues without blocking the fake, a goroutine
// delivers in order at the reader's pace.
type subscriber struct {
	filters filters.Args
	mu      sync.Mutex
	queue   []events.Message
	signal  chan struct{}
}

// Events streams the events of changes made after the call, like the engine's stream without
// since: service create/update (with updatestate.old/new and image.old/new)/remove, container
// create/start/die/destroy and health_status, network, secret, config and volume events.
// Past events are not replayed. As with the client, the message channel is never closed; the
// error channel receives ctx.Err() once ctx ends, then closes.
func (f *Fake) Events(ctx context.Context, options events.ListOptions) (<-chan events.Message, <-chan error) {
	msgs := make(chan events.Message)
	errs := make(chan error, 1)
	if err := f.enter(ctx, "Events", options); err != nil {
		errs <- err
		close(errs)
		return msgs, errs
	}
	if err := validateFilters(options.Filters, "config", "container", "daemon", "event", "image", "label", "network", "node",
		"plugin", "scope", "secret", "service", "type", "volume"); err != nil {
		errs <- err
		close(errs)
		return msgs, errs
	}
	sub := &subscriber{filters: options.Filters.Clone(), signal: make(chan struct{}, 1)}
	f.mu.Lock()
	f.subs[sub] = struct{}{}
	f.mu.Unlock()
	go func() {
		defer close(errs)
		defer func() {
			f.mu.Lock()
			delete(f.subs, sub)
			f.mu.Unlock()
		}()
		for {
			sub.mu.Lock()
			var next []events.Message
			next, sub.queue = sub.queue, nil
			sub.mu.Unlock()
			for _, m := range next {
				select {
				case msgs <- m:
				case <-ctx.Done():
					errs <- ctx.Err()
					return
				}
			}
			select {
			case <-sub.signal:
			case <-ctx.Done():
				errs <- ctx.Err()
				return
			}
		}
	}()
	return msgs, errs
}

// emit records an event for every subscriber whose filters it matches. Called with f.mu held.
func (f *Fake) emit(typ events.Type, action events.Action, id string, attrs map[string]string, scope string) {
	if len(f.subs) == 0 {
		return
	}
	now := f.clock()
	m := events.Message{
		Type: typ, Action: action, Actor: events.Actor{ID: id, Attributes: attrs}, Scope: scope,
		Time: now.Unix(), TimeNano: now.UnixNano(),
	}
	if typ == events.ContainerEventType {
		//lint:ignore SA1019 the engine still fills these legacy fields of container events
		m.Status, m.ID, m.From = string(action), id, attrs["image"]
	}
	for sub := range f.subs {
		if !eventMatches(sub.filters, m) {
			continue
		}
		sub.mu.Lock()
		sub.queue = append(sub.queue, clone(m))
		sub.mu.Unlock()
		select {
		case sub.signal <- struct{}{}:
		default:
		}
	}
}

// eventMatches applies the engine's event filters: type, event (action), scope, label on the
// actor's attributes, and per type the actor's ID or name.
func eventMatches(a filters.Args, m events.Message) bool {
	if a.Contains("type") && !a.ExactMatch("type", string(m.Type)) {
		return false
	}
	if a.Contains("event") && !matchAction(a, string(m.Action)) {
		return false
	}
	if a.Contains("scope") && !a.ExactMatch("scope", m.Scope) {
		return false
	}
	if !a.MatchKVList("label", m.Actor.Attributes) {
		return false
	}
	for _, typ := range []events.Type{events.ContainerEventType, events.ServiceEventType, events.NetworkEventType,
		events.VolumeEventType, events.SecretEventType, events.ConfigEventType, events.NodeEventType} {
		key := string(typ)
		if !a.Contains(key) {
			continue
		}
		if m.Type != typ || !(a.ExactMatch(key, m.Actor.ID) || a.ExactMatch(key, m.Actor.Attributes["name"])) {
			return false
		}
	}
	if a.Contains("image") && !a.ExactMatch("image", m.Actor.Attributes["image"]) {
		return false
	}
	return true
}

// matchAction is the engine's event filter: exact, except that a filter naming
// health_status, exec_create or exec_start matches by prefix, so "health_status" matches the
// action "health_status: healthy".
func matchAction(a filters.Args, action string) bool {
	for _, v := range a.Get("event") {
		if v == "health_status" || v == "exec_create" || v == "exec_start" {
			return a.FuzzyMatch("event", action)
		}
	}
	return a.ExactMatch("event", action)
}
