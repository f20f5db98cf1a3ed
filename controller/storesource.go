package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// Watcher is the part of the store a StoreSource reads; *store.Store has it.
type Watcher interface {
	List(ctx context.Context, kind string) ([]v1alpha1.Object, string, error)
	Watch(ctx context.Context, kind, since string) (<-chan store.WatchEvent, error)
}

var _ Watcher = (*store.Store)(nil)

// Change is one object a StoreSource saw: listed (Old nil, Listed true), created, changed
// or deleted (Deleted true; New is its last state). Old is the state the source saw last,
// nil when it saw none.
type Change struct {
	Old, New v1alpha1.Object
	Listed   bool
	Deleted  bool
}

// SpecChanged reports whether the change is more than a status write: the object is new,
// listed, deleted, marked for deletion, or its generation, labels or finalizers moved. A
// controller that writes an object's status ignores its own writes this way, and steps on
// with its Result instead.
func (c Change) SpecChanged() bool {
	if c.Old == nil || c.Listed || c.Deleted {
		return true
	}
	o, n := c.Old.GetObjectMeta(), c.New.GetObjectMeta()
	return o.Generation != n.Generation || (o.DeletionTimestamp == nil) != (n.DeletionTimestamp == nil) ||
		!slices.Equal(o.Finalizers, n.Finalizers) || !equalLabels(o.Labels, n.Labels)
}

func equalLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// StoreSource is the one store-fed Source of every controller: it lists the objects of its
// kinds, maps each to the requests it should wake, then watches the store from the listing
// on and maps every change the same way. When the store says the watch fell behind, it lists
// and watches again. Map decides what a change wakes (the object itself, the objects that
// depend on it, nothing); it may read the store.
type StoreSource struct {
	Store Watcher
	// Kinds are listed at the start and at every relist; the watch covers all of them.
	Kinds []string
	// Map turns one change into the requests it wakes.
	Map func(ctx context.Context, c Change) ([]Request, error)
}

// Start lists, maps and watches until ctx ends (nil) or the store fails.
func (s StoreSource) Start(ctx context.Context, enqueue func(Request)) error {
	if s.Store == nil || s.Map == nil || len(s.Kinds) == 0 {
		return errors.New("store source: store, kinds and map are required")
	}
	watchKind := ""
	if len(s.Kinds) == 1 {
		watchKind = s.Kinds[0]
	}
	seen := map[string]v1alpha1.Object{}
	for {
		rv, err := s.list(ctx, seen, enqueue)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		ch, err := s.Store.Watch(ctx, watchKind, rv)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch store: %w", err)
		}
		relist, err := s.forward(ctx, ch, seen, enqueue)
		if err != nil || !relist {
			return err
		}
	}
}

// list lists every kind and maps each object; it returns the resourceVersion to watch from
// (the oldest of the listings, so that nothing between them is missed).
func (s StoreSource) list(ctx context.Context, seen map[string]v1alpha1.Object, enqueue func(Request)) (string, error) {
	var since string
	for _, kind := range s.Kinds {
		objs, rv, err := s.Store.List(ctx, kind)
		if err != nil {
			return "", fmt.Errorf("list %s: %w", kind, err)
		}
		if since == "" || lessVersion(rv, since) {
			since = rv
		}
		for _, obj := range objs {
			seen[objectKey(obj)] = obj
			if err := s.emit(ctx, Change{New: obj, Listed: true}, enqueue); err != nil {
				return "", err
			}
		}
	}
	return since, nil
}

// forward maps watch events until the watch ends; relist says the store asked for a new
// listing.
func (s StoreSource) forward(ctx context.Context, ch <-chan store.WatchEvent, seen map[string]v1alpha1.Object, enqueue func(Request)) (bool, error) {
	for ev := range ch {
		if ev.Type == store.Relist {
			return true, nil
		}
		if !slices.Contains(s.Kinds, kindOf(ev.Object)) {
			continue
		}
		k := objectKey(ev.Object)
		c := Change{Old: seen[k], New: ev.Object, Deleted: ev.Type == store.Deleted}
		if c.Deleted {
			delete(seen, k)
		} else {
			seen[k] = ev.Object
		}
		if err := s.emit(ctx, c, enqueue); err != nil {
			return false, err
		}
	}
	if ctx.Err() != nil {
		return false, nil
	}
	return false, errors.New("store watch closed")
}

func (s StoreSource) emit(ctx context.Context, c Change, enqueue func(Request)) error {
	reqs, err := s.Map(ctx, c)
	if err != nil {
		return err
	}
	for _, r := range reqs {
		enqueue(r)
	}
	return nil
}

func kindOf(obj v1alpha1.Object) string {
	kind, _ := store.KindOf(obj)
	return kind
}

func objectKey(obj v1alpha1.Object) string { return kindOf(obj) + "/" + obj.GetObjectMeta().Name }

// lessVersion compares resourceVersions, which the store writes as decimal numbers.
func lessVersion(a, b string) bool {
	return len(a) < len(b) || (len(a) == len(b) && a < b)
}

// Self maps a change of an object to a request for that object, when keep says so (nil
// keeps every change).
func Self(keep func(Change) bool) func(context.Context, Change) ([]Request, error) {
	return func(_ context.Context, c Change) ([]Request, error) {
		if keep != nil && !keep(c) {
			return nil, nil
		}
		return []Request{{Kind: kindOf(c.New), Name: c.New.GetObjectMeta().Name}}, nil
	}
}
