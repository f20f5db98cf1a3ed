package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// ApplyResult says what an Apply did.
type ApplyResult string

// Apply results, as kubectl prints them.
const (
	Created    ApplyResult = "created"
	Configured ApplyResult = "configured"
	Unchanged  ApplyResult = "unchanged"
)

// Create stores a new object and fills obj with what was stored: uid, generation 1, a
// resourceVersion and the creation time. It fails with ErrAlreadyExists if the name is taken.
// The object's status is kept as given (an empty one, normally).
func (s *Store) Create(ctx context.Context, obj v1alpha1.Object) error {
	kind, name, err := keyOf(obj)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	var raw []byte
	err = s.write(ctx, func(tx *bolt.Tx) (*change, error) {
		var c *change
		raw, c, err = s.create(tx, kind, obj)
		return c, err
	})
	if err != nil {
		return fmt.Errorf("create %s %q: %w", kind, name, err)
	}
	return decodeInto(raw, obj)
}

func (s *Store) create(tx *bolt.Tx, kind string, obj v1alpha1.Object) ([]byte, *change, error) {
	name := obj.GetObjectMeta().Name
	b := tx.Bucket([]byte(kind))
	if b.Get([]byte(name)) != nil {
		return nil, nil, ErrAlreadyExists
	}
	f, err := split(obj)
	if err != nil {
		return nil, nil, err
	}
	in, err := f.meta()
	if err != nil {
		return nil, nil, err
	}
	rv, err := nextRV(tx)
	if err != nil {
		return nil, nil, err
	}
	m := v1alpha1.ObjectMeta{
		Name:              name,
		Labels:            in.Labels,
		Annotations:       in.Annotations,
		Finalizers:        in.Finalizers,
		UID:               newUID(),
		Generation:        1,
		ResourceVersion:   formatRV(rv),
		CreationTimestamp: s.o.Now().UTC().Truncate(time.Second),
	}
	return s.put(tx, kind, f, m, Added)
}

// put writes the object made of f with metadata m and returns its encoding and the change.
func (s *Store) put(tx *bolt.Tx, kind string, f fields, m v1alpha1.ObjectMeta, t EventType) ([]byte, *change, error) {
	if err := f.setMeta(m); err != nil {
		return nil, nil, err
	}
	f.set("apiVersion", []byte(`"`+v1alpha1.APIVersion+`"`))
	f.set("kind", []byte(`"`+kind+`"`))
	raw, err := f.encode()
	if err != nil {
		return nil, nil, err
	}
	if err := tx.Bucket([]byte(kind)).Put([]byte(m.Name), raw); err != nil {
		return nil, nil, err
	}
	rv, _ := parseRV(m.ResourceVersion)
	return raw, &change{typ: t, kind: kind, name: m.Name, rv: rv, raw: raw}, nil
}

// remove deletes the object for good, with its events, as of resourceVersion rv.
func (s *Store) remove(tx *bolt.Tx, kind string, f fields, m v1alpha1.ObjectMeta) ([]byte, *change, error) {
	if err := tx.Bucket([]byte(kind)).Delete([]byte(m.Name)); err != nil {
		return nil, nil, err
	}
	if err := tx.Bucket([]byte(bucketEvents)).Delete(eventsKey(kind, m.Name)); err != nil {
		return nil, nil, err
	}
	if err := f.setMeta(m); err != nil {
		return nil, nil, err
	}
	raw, err := f.encode()
	if err != nil {
		return nil, nil, err
	}
	rv, _ := parseRV(m.ResourceVersion)
	return raw, &change{typ: Deleted, kind: kind, name: m.Name, rv: rv, raw: raw}, nil
}

// Get fills into with the stored object of into's kind named name.
func (s *Store) Get(ctx context.Context, name string, into v1alpha1.Object) error {
	kind, err := KindOf(into)
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("get %s %q: %w", kind, name, err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket([]byte(kind)).Get([]byte(name))
		if raw == nil {
			return ErrNotFound
		}
		return decodeInto(raw, into)
	})
	if err != nil {
		return fmt.Errorf("get %s %q: %w", kind, name, err)
	}
	return nil
}

// List returns every object of kind, by name, and the resourceVersion of that snapshot: a
// Watch from it misses no later change.
func (s *Store) List(ctx context.Context, kind string) ([]v1alpha1.Object, string, error) {
	out := []v1alpha1.Object{}
	rv, err := s.scan(ctx, kind, func(raw []byte) error {
		obj, err := decodeKind(kind, raw)
		if err != nil {
			return err
		}
		out = append(out, obj)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, rv, nil
}

// ListJSON is List without decoding: each object as the store encoded it, which is what the
// API server sends on.
func (s *Store) ListJSON(ctx context.Context, kind string) ([]json.RawMessage, string, error) {
	out := []json.RawMessage{}
	rv, err := s.scan(ctx, kind, func(raw []byte) error {
		// bbolt's bytes live only as long as the transaction.
		out = append(out, bytes.Clone(raw))
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, rv, nil
}

// scan calls fn with every stored object of kind, by name, in one read transaction, and
// returns that snapshot's resourceVersion.
func (s *Store) scan(ctx context.Context, kind string, fn func(raw []byte) error) (string, error) {
	if _, err := NewObject(kind); err != nil {
		return "", fmt.Errorf("list: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("list %s: %w", kind, err)
	}
	var rv uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		rv = readRV(tx)
		return tx.Bucket([]byte(kind)).ForEach(func(_, raw []byte) error { return fn(raw) })
	})
	if err != nil {
		return "", fmt.Errorf("list %s: %w", kind, err)
	}
	return formatRV(rv), nil
}

// Update replaces an object's spec, labels, annotations and finalizers, keeping its status.
// If obj carries a resourceVersion it must be the stored one, else ErrConflict. generation
// increases only when the spec changes; a write that changes nothing is not stored. Removing
// the last finalizer of an object being deleted removes the object. obj is filled with the
// stored result.
func (s *Store) Update(ctx context.Context, obj v1alpha1.Object) error {
	kind, name, err := keyOf(obj)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	var raw []byte
	err = s.write(ctx, func(tx *bolt.Tx) (*change, error) {
		old, in, err := s.load(tx, kind, name, obj)
		if err != nil {
			return nil, err
		}
		oldM, _ := old.meta()
		inM, err := in.meta()
		if err != nil {
			return nil, err
		}
		m := oldM
		m.Labels, m.Annotations, m.Finalizers = inM.Labels, inM.Annotations, inM.Finalizers
		specChanged := !sameSpec(old, in)
		if !specChanged && sameUserMeta(oldM, m) {
			raw, err = old.encode()
			return nil, err
		}
		if specChanged {
			m.Generation++
		}
		if m.ResourceVersion, err = allocRV(tx); err != nil {
			return nil, err
		}
		in.set("status", old["status"])
		var c *change
		if m.DeletionTimestamp != nil && len(m.Finalizers) == 0 {
			raw, c, err = s.remove(tx, kind, in, m)
			return c, err
		}
		raw, c, err = s.put(tx, kind, in, m, Modified)
		return c, err
	})
	if err != nil {
		return fmt.Errorf("update %s %q: %w", kind, name, err)
	}
	return decodeInto(raw, obj)
}

// UpdateStatus replaces an object's status and nothing else: spec, metadata and generation stay
// as stored. If obj carries a resourceVersion it must be the stored one, else ErrConflict.
func (s *Store) UpdateStatus(ctx context.Context, obj v1alpha1.Object) error {
	kind, name, err := keyOf(obj)
	if err != nil {
		return fmt.Errorf("update status: %w", err)
	}
	var raw []byte
	err = s.write(ctx, func(tx *bolt.Tx) (*change, error) {
		old, in, err := s.load(tx, kind, name, obj)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(old["status"], in["status"]) {
			raw, err = old.encode()
			return nil, err
		}
		m, _ := old.meta()
		if m.ResourceVersion, err = allocRV(tx); err != nil {
			return nil, err
		}
		old.set("status", in["status"])
		var c *change
		raw, c, err = s.put(tx, kind, old, m, Modified)
		return c, err
	})
	if err != nil {
		return fmt.Errorf("update status %s %q: %w", kind, name, err)
	}
	return decodeInto(raw, obj)
}

// Apply is a server-side apply: it creates obj if absent; otherwise it replaces the stored
// spec, labels and annotations with obj's, keeping status and finalizers. generation increases
// only when the spec really changes, and an apply that changes nothing stores nothing. If obj
// carries a resourceVersion it must be the stored one. obj is filled with the stored result.
func (s *Store) Apply(ctx context.Context, obj v1alpha1.Object) (ApplyResult, error) {
	kind, name, err := keyOf(obj)
	if err != nil {
		return "", fmt.Errorf("apply: %w", err)
	}
	var (
		raw    []byte
		result ApplyResult
	)
	err = s.write(ctx, func(tx *bolt.Tx) (*change, error) {
		var c *change
		if tx.Bucket([]byte(kind)).Get([]byte(name)) == nil {
			result = Created
			raw, c, err = s.create(tx, kind, obj)
			return c, err
		}
		old, in, err := s.load(tx, kind, name, obj)
		if err != nil {
			return nil, err
		}
		oldM, _ := old.meta()
		inM, err := in.meta()
		if err != nil {
			return nil, err
		}
		m := oldM
		m.Labels, m.Annotations = inM.Labels, inM.Annotations
		specChanged := !sameSpec(old, in)
		if !specChanged && sameUserMeta(oldM, m) {
			result = Unchanged
			raw, err = old.encode()
			return nil, err
		}
		result = Configured
		if specChanged {
			m.Generation++
		}
		if m.ResourceVersion, err = allocRV(tx); err != nil {
			return nil, err
		}
		old.set("spec", in["spec"])
		raw, c, err = s.put(tx, kind, old, m, Modified)
		return c, err
	})
	if err != nil {
		return "", fmt.Errorf("apply %s %q: %w", kind, name, err)
	}
	return result, decodeInto(raw, obj)
}

// Delete deletes the object of kind named name and returns its last state. An object with
// finalizers is only marked: deletionTimestamp is set, and it goes when the last finalizer is
// removed by Update. Deleting an object already marked changes nothing.
func (s *Store) Delete(ctx context.Context, kind, name string) (v1alpha1.Object, error) {
	if _, err := NewObject(kind); err != nil {
		return nil, fmt.Errorf("delete: %w", err)
	}
	var raw []byte
	err := s.write(ctx, func(tx *bolt.Tx) (*change, error) {
		cur := tx.Bucket([]byte(kind)).Get([]byte(name))
		if cur == nil {
			return nil, ErrNotFound
		}
		f, err := splitRaw(cur)
		if err != nil {
			return nil, err
		}
		m, err := f.meta()
		if err != nil {
			return nil, err
		}
		if m.DeletionTimestamp != nil {
			raw = bytes.Clone(cur)
			return nil, nil
		}
		if m.ResourceVersion, err = allocRV(tx); err != nil {
			return nil, err
		}
		var c *change
		if len(m.Finalizers) == 0 {
			raw, c, err = s.remove(tx, kind, f, m)
			return c, err
		}
		now := s.o.Now().UTC().Truncate(time.Second)
		m.DeletionTimestamp = &now
		raw, c, err = s.put(tx, kind, f, m, Modified)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("delete %s %q: %w", kind, name, err)
	}
	return decodeKind(kind, raw)
}

// load reads the stored object for a write based on obj, checking obj's resourceVersion.
func (s *Store) load(tx *bolt.Tx, kind, name string, obj v1alpha1.Object) (old, in fields, err error) {
	cur := tx.Bucket([]byte(kind)).Get([]byte(name))
	if cur == nil {
		return nil, nil, ErrNotFound
	}
	if old, err = splitRaw(cur); err != nil {
		return nil, nil, err
	}
	oldM, err := old.meta()
	if err != nil {
		return nil, nil, err
	}
	if rv := obj.GetObjectMeta().ResourceVersion; rv != "" && rv != oldM.ResourceVersion {
		return nil, nil, fmt.Errorf("%w (stored resourceVersion %s, given %s)", ErrConflict, oldM.ResourceVersion, rv)
	}
	if in, err = split(obj); err != nil {
		return nil, nil, err
	}
	return old, in, nil
}

func allocRV(tx *bolt.Tx) (string, error) {
	rv, err := nextRV(tx)
	return formatRV(rv), err
}

// sameUserMeta reports whether the metadata a client may change is equal; nil and empty are
// the same.
func sameUserMeta(a, b v1alpha1.ObjectMeta) bool {
	return maps.Equal(a.Labels, b.Labels) && maps.Equal(a.Annotations, b.Annotations) &&
		slices.Equal(a.Finalizers, b.Finalizers)
}

func keyOf(obj v1alpha1.Object) (kind, name string, err error) {
	if kind, err = KindOf(obj); err != nil {
		return "", "", err
	}
	name = obj.GetObjectMeta().Name
	if name == "" {
		return "", "", fmt.Errorf("%s without metadata.name: %w", kind, ErrInvalid)
	}
	return kind, name, nil
}

// write runs fn in a write transaction and, once it has committed, publishes its change to the
// watchers, in resourceVersion order.
//
// Writes made at the same time commit together (group commit): the writer that finds no
// commit under way runs every queued write in one transaction, with one sync to disk, then
// the writes queued meanwhile, and so on. A write is acknowledged only once its transaction
// has committed. When one write of a batch fails, the batch is rolled back and each write
// runs again in a transaction of its own, so that one write's failure is never another's.
func (s *Store) write(ctx context.Context, fn func(tx *bolt.Tx) (*change, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &pendingWrite{fn: fn, done: make(chan struct{})}
	s.qmu.Lock()
	s.queue = append(s.queue, w)
	lead := !s.committing
	s.committing = true
	s.qmu.Unlock()
	if lead {
		s.commitQueued()
	}
	<-w.done
	return w.err
}

// pendingWrite is one write waiting for its commit.
type pendingWrite struct {
	fn   func(tx *bolt.Tx) (*change, error)
	err  error
	done chan struct{}
}

// commitQueued commits the queued writes, batch after batch, until none is left.
func (s *Store) commitQueued() {
	for {
		s.qmu.Lock()
		batch := s.queue
		s.queue = nil
		if len(batch) == 0 {
			s.committing = false
			s.qmu.Unlock()
			return
		}
		s.qmu.Unlock()
		s.mu.Lock()
		if err := s.commitBatch(batch); err != nil {
			for _, w := range batch {
				s.commitBatch([]*pendingWrite{w})
			}
		}
		s.mu.Unlock()
	}
}

// commitBatch runs the writes in one transaction. It reports the first write's error, and
// then leaves the writes unanswered, for a batch of several (the caller runs each alone);
// otherwise it answers every write and publishes their changes. The caller holds mu.
func (s *Store) commitBatch(batch []*pendingWrite) error {
	changes := make([]*change, len(batch))
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i, w := range batch {
			c, err := w.fn(tx)
			if err != nil {
				return err
			}
			changes[i] = c
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		return err
	}
	for i, w := range batch {
		w.err = err
		switch c := changes[i]; {
		case err != nil || c == nil:
		case c.event != nil:
			s.publishEventLocked(*c.event)
		default:
			s.rv = c.rv
			s.publishLocked(*c)
		}
		close(w.done)
	}
	return nil
}
