package store

import (
	"context"
	"fmt"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// EventChange is one event as a watcher of events sees it: Added when it is recorded for the
// first time, Modified when a repeat bumped its count and last time, or Relist (with no
// event) when the watcher fell behind and its watch ends.
type EventChange struct {
	Type  EventType
	Event v1alpha1.Event
}

type eventSubscriber struct {
	kind, name string
	ch         chan EventChange
	done       chan struct{}
	limit      int
}

func (sub *eventSubscriber) wants(e v1alpha1.Event) bool {
	return (sub.kind == "" || sub.kind == e.Object.Kind) && (sub.name == "" || sub.name == e.Object.Name)
}

// WatchEvents delivers every event recorded after the call on objects of kind ("" for every
// kind) named name ("" for every name), in the order they were recorded, until ctx ends or
// the store closes; then the channel is closed. Events are not versioned like objects: a
// watch starts from now, so list first (AllEvents, Events) after starting the watch, and
// skip what the list already showed. A watcher that falls WatchBuffer events behind gets a
// Relist change and its channel is closed.
func (s *Store) WatchEvents(ctx context.Context, kind, name string) (<-chan EventChange, error) {
	if kind != "" {
		if _, err := NewObject(kind); err != nil {
			return nil, fmt.Errorf("watch events: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("watch events: %w", err)
	}
	sub := &eventSubscriber{kind: kind, name: name, ch: make(chan EventChange, s.o.WatchBuffer+1),
		done: make(chan struct{}), limit: s.o.WatchBuffer}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("watch events: store closed")
	}
	s.eventSubs[sub] = struct{}{}
	s.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			s.dropEventSubLocked(sub)
			s.mu.Unlock()
		case <-sub.done:
		}
	}()
	return sub.ch, nil
}

// publishEventLocked hands e to every event watcher that wants it, never blocking: a watcher
// whose buffer is full is told to re-list and dropped.
func (s *Store) publishEventLocked(e v1alpha1.Event) {
	typ := Added
	if e.Count > 1 {
		typ = Modified
	}
	for sub := range s.eventSubs {
		if !sub.wants(e) {
			continue
		}
		if len(sub.ch) >= sub.limit {
			sub.ch <- EventChange{Type: Relist}
			s.dropEventSubLocked(sub)
			continue
		}
		sub.ch <- EventChange{Type: typ, Event: e}
	}
}

func (s *Store) dropEventSubLocked(sub *eventSubscriber) {
	if _, ok := s.eventSubs[sub]; !ok {
		return
	}
	delete(s.eventSubs, sub)
	close(sub.ch)
	close(sub.done)
}
