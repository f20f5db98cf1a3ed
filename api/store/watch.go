package store

import (
	"context"
	"fmt"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// EventType is the type of a WatchEvent.
type EventType string

// Watch event types. Relist ends a watch: the watcher fell too far behind (or asked for a
// resourceVersion older than the store remembers) and must list again, then watch from the
// list's resourceVersion.
const (
	Added    EventType = "ADDED"
	Modified EventType = "MODIFIED"
	Deleted  EventType = "DELETED"
	Relist   EventType = "RELIST"
)

// WatchEvent is one change. Object is the object after the change (for Deleted, its last
// state with the deletion's resourceVersion); it is the watcher's own copy. Relist events have
// no Object.
type WatchEvent struct {
	Type   EventType
	Object v1alpha1.Object
}

// change is a committed write as kept in the history and sent to watchers.
type change struct {
	typ  EventType
	kind string
	name string
	rv   uint64
	raw  []byte
	// event, when set, makes this the recording of an event (RecordEvent), for the watchers
	// of events; it has no resourceVersion and none of the fields above.
	event *v1alpha1.Event
}

type subscriber struct {
	kind string
	ch   chan WatchEvent
	// done is closed when the subscriber is dropped, so that its context watcher ends too.
	done chan struct{}
	// limit is the channel's capacity less the slot kept for the Relist event.
	limit int
}

// Watch delivers every change to objects of kind ("" for every kind) after resourceVersion
// since, in order, until ctx ends or the store closes; then the channel is closed. since ""
// means from now. If the watcher falls WatchBuffer changes behind, or since is older than the
// store's in-memory history, it gets a Relist event and the channel is closed: list again and
// watch from the list's resourceVersion.
func (s *Store) Watch(ctx context.Context, kind, since string) (<-chan WatchEvent, error) {
	if kind != "" {
		if _, err := NewObject(kind); err != nil {
			return nil, fmt.Errorf("watch: %w", err)
		}
	}
	from, err := parseRV(since)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", kind, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("watch %s: %w", kind, err)
	}
	sub := &subscriber{kind: kind, ch: make(chan WatchEvent, s.o.WatchBuffer+1), done: make(chan struct{}), limit: s.o.WatchBuffer}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("watch %s: store closed", kind)
	}
	s.subs[sub] = struct{}{}
	if since != "" && from < s.rv {
		s.replayLocked(sub, from)
	}
	s.mu.Unlock()

	go func() {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			s.unsubscribeLocked(sub)
			s.mu.Unlock()
		case <-sub.done:
		}
	}()
	return sub.ch, nil
}

// replayLocked sends the remembered changes after from, or Relist if the history does not
// reach back that far.
func (s *Store) replayLocked(sub *subscriber, from uint64) {
	if len(s.history) == 0 || s.history[0].rv > from+1 {
		s.relistLocked(sub)
		return
	}
	for _, c := range s.history {
		if c.rv > from {
			s.sendLocked(sub, c)
		}
	}
}

// publishLocked records c in the history and hands it to every watcher of its kind. It never
// blocks: a watcher whose buffer is full is told to re-list and dropped.
func (s *Store) publishLocked(c change) {
	// Trim in halves rather than on every write, so that a write costs O(1) amortised.
	if len(s.history) >= 2*s.o.History {
		n := copy(s.history, s.history[len(s.history)-s.o.History:])
		clear(s.history[n:])
		s.history = s.history[:n]
	}
	s.history = append(s.history, c)
	for sub := range s.subs {
		s.sendLocked(sub, c)
	}
}

func (s *Store) sendLocked(sub *subscriber, c change) {
	if _, ok := s.subs[sub]; !ok || (sub.kind != "" && sub.kind != c.kind) {
		return
	}
	if len(sub.ch) >= sub.limit {
		s.relistLocked(sub)
		return
	}
	obj, err := decodeKind(c.kind, c.raw)
	if err != nil {
		// The bytes were encoded by this store a moment ago; if they cannot be read back the
		// watcher cannot be kept consistent, so it re-lists.
		s.relistLocked(sub)
		return
	}
	sub.ch <- WatchEvent{Type: c.typ, Object: obj}
}

// relistLocked tells sub to re-list and ends its watch. The slot it uses is always free: sends
// stop at limit, one short of the capacity.
func (s *Store) relistLocked(sub *subscriber) {
	if _, ok := s.subs[sub]; !ok {
		return
	}
	sub.ch <- WatchEvent{Type: Relist}
	s.unsubscribeLocked(sub)
}

func (s *Store) unsubscribeLocked(sub *subscriber) {
	if _, ok := s.subs[sub]; !ok {
		return
	}
	delete(s.subs, sub)
	close(sub.ch)
	close(sub.done)
}
