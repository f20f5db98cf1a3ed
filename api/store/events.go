package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// Bounds of what an event keeps: a longer reason or message is cut on a rune boundary and ends
// in TruncatedMarker, so that whoever records events (a controller quoting a recipe's output,
// a client through the API) cannot fill the store, or a terminal, with one.
const (
	MaxEventMessageBytes = 1024
	MaxEventReasonBytes  = 128
)

// TruncatedMarker ends an event message (or reason) that was cut.
const TruncatedMarker = "… [truncated]"

// RecordEvent adds an event to the object ref names, its reason and message cut to
// MaxEventReasonBytes and MaxEventMessageBytes. A repeat of a kept event's type, reason and
// message bumps its count and last time instead of adding one. Only the newest EventsPerObject
// events are kept. Events do not change the object or its resourceVersion; they go when the
// object goes.
func (s *Store) RecordEvent(ctx context.Context, ref v1alpha1.ObjectReference, typ v1alpha1.EventType, reason, message string) error {
	if _, err := NewObject(ref.Kind); err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("record event on %s %q: %w", ref.Kind, ref.Name, err)
	}
	reason, message = truncate(reason, MaxEventReasonBytes), truncate(message, MaxEventMessageBytes)
	now := s.o.Now().UTC().Truncate(time.Second)
	err := s.write(ctx, func(tx *bolt.Tx) (*change, error) {
		cur := tx.Bucket([]byte(ref.Kind)).Get([]byte(ref.Name))
		if cur == nil {
			return nil, ErrNotFound
		}
		if ref.UID == "" {
			f, err := splitRaw(cur)
			if err != nil {
				return nil, err
			}
			m, err := f.meta()
			if err != nil {
				return nil, err
			}
			ref.UID = m.UID
		}
		b := tx.Bucket([]byte(bucketEvents))
		key := eventsKey(ref.Kind, ref.Name)
		events, err := decodeEvents(b.Get(key))
		if err != nil {
			return nil, err
		}
		events = addEvent(events, v1alpha1.Event{
			Object: ref, Type: typ, Reason: reason, Message: message,
			Count: 1, FirstTimestamp: now, LastTimestamp: now,
		}, s.o.EventsPerObject)
		raw, err := json.Marshal(events)
		if err != nil {
			return nil, err
		}
		// addEvent puts the new or repeated event last; the commit hands it to the watchers
		// of events, in the order of the writes.
		return &change{event: &events[len(events)-1]}, b.Put(key, raw)
	})
	if err != nil {
		return fmt.Errorf("record event on %s %q: %w", ref.Kind, ref.Name, err)
	}
	return nil
}

// truncate cuts s to at most limit bytes, on a rune boundary, ending in TruncatedMarker.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len(TruncatedMarker)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + TruncatedMarker
}

// addEvent merges e into events (oldest first), keeping at most max.
func addEvent(events []v1alpha1.Event, e v1alpha1.Event, max int) []v1alpha1.Event {
	for i, x := range events {
		if x.Type == e.Type && x.Reason == e.Reason && x.Message == e.Message {
			x.Count++
			x.LastTimestamp = e.LastTimestamp
			events = append(append(events[:i:i], events[i+1:]...), x)
			return events
		}
	}
	events = append(events, e)
	if len(events) > max {
		events = events[len(events)-max:]
	}
	return events
}

// Events returns the events kept for an object, oldest first. An object without events has
// none; an absent object is ErrNotFound.
func (s *Store) Events(ctx context.Context, kind, name string) ([]v1alpha1.Event, error) {
	if _, err := NewObject(kind); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("events of %s %q: %w", kind, name, err)
	}
	var events []v1alpha1.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(kind)).Get([]byte(name)) == nil {
			return ErrNotFound
		}
		var err error
		events, err = decodeEvents(tx.Bucket([]byte(bucketEvents)).Get(eventsKey(kind, name)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("events of %s %q: %w", kind, name, err)
	}
	return events, nil
}

// AllEvents returns the events kept for every object, oldest first by their last
// occurrence, as kubectl get events lists them.
func (s *Store) AllEvents(ctx context.Context) ([]v1alpha1.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	var out []v1alpha1.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketEvents)).ForEach(func(_, v []byte) error {
			events, err := decodeEvents(v)
			out = append(out, events...)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	// Stable: an object's own events keep their order within a second.
	slices.SortStableFunc(out, func(a, b v1alpha1.Event) int { return a.LastTimestamp.Compare(b.LastTimestamp) })
	return out, nil
}

func eventsKey(kind, name string) []byte { return []byte(kind + "/" + name) }

func decodeEvents(raw []byte) ([]v1alpha1.Event, error) {
	if raw == nil {
		return []v1alpha1.Event{}, nil
	}
	var events []v1alpha1.Event
	if err := json.Unmarshal(raw, &events); err != nil {
		return nil, fmt.Errorf("decode events: %w", err)
	}
	return events, nil
}
