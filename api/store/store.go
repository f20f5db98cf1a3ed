package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// Options tune a Store. The zero value is usable: Open fills the defaults.
type Options struct {
	// Now is the clock for timestamps (creation, deletion, events), which are kept to the
	// second as in Kubernetes. Default time.Now.
	Now func() time.Time
	// LockTimeout bounds the wait for the file lock another process holds. Default 500ms.
	LockTimeout time.Duration
	// WatchBuffer is how many changes (or events, for a watcher of events) a watcher may fall
	// behind before it is told to re-list. Default 1024.
	WatchBuffer int
	// History is at least how many recent changes are kept in memory so that a watch can
	// start from a resourceVersion slightly in the past (typically the one a list returned).
	// Default 4096.
	History int
	// EventsPerObject bounds the events kept for one object; the oldest go first. Default 50.
	EventsPerObject int
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 500 * time.Millisecond
	}
	if o.WatchBuffer <= 0 {
		o.WatchBuffer = 1024
	}
	if o.History <= 0 {
		o.History = 4096
	}
	if o.EventsPerObject <= 0 {
		o.EventsPerObject = 50
	}
}

// Buckets besides the one per kind, and the key of the global resourceVersion in bucketMeta.
const (
	bucketMeta   = "meta"
	bucketEvents = "events"
	keyRV        = "resourceVersion"
)

// Store keeps objects in one bbolt file. It is safe for concurrent use.
type Store struct {
	db *bolt.DB
	o  Options

	// mu serialises writes with the publication of their changes, so that watchers see
	// changes in resourceVersion order; it also guards the fields below.
	mu      sync.Mutex
	closed  bool
	rv      uint64 // last committed resourceVersion
	history []change
	subs    map[*subscriber]struct{}
	// eventSubs are the watchers of events (WatchEvents).
	eventSubs map[*eventSubscriber]struct{}

	// qmu guards the writes waiting for a commit, and whether a writer is committing them
	// (see write).
	qmu        sync.Mutex
	queue      []*pendingWrite
	committing bool
}

// Open opens (creating if needed) the store file at path, mode 0600. If another process holds
// the file, Open gives up after Options.LockTimeout with ErrLocked.
func Open(path string, o Options) (*Store, error) {
	o.defaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.LockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: %w (waited %s)", path, ErrLocked, o.LockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, o: o, subs: map[*subscriber]struct{}{}, eventSubs: map[*eventSubscriber]struct{}{}}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range append([]string{bucketMeta, bucketEvents}, v1alpha1.Kinds()...) {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
		}
		s.rv = readRV(tx)
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// Close ends every watch and closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	for sub := range s.subs {
		s.unsubscribeLocked(sub)
	}
	for sub := range s.eventSubs {
		s.dropEventSubLocked(sub)
	}
	s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// ResourceVersion is the store's latest resourceVersion.
func (s *Store) ResourceVersion() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return formatRV(s.rv)
}

func readRV(tx *bolt.Tx) uint64 {
	b := tx.Bucket([]byte(bucketMeta)).Get([]byte(keyRV))
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// nextRV allocates the next resourceVersion inside a write transaction; a rolled-back
// transaction gives its number back.
func nextRV(tx *bolt.Tx) (uint64, error) {
	rv := readRV(tx) + 1
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], rv)
	if err := tx.Bucket([]byte(bucketMeta)).Put([]byte(keyRV), b[:]); err != nil {
		return 0, err
	}
	return rv, nil
}

func formatRV(rv uint64) string { return strconv.FormatUint(rv, 10) }

// parseRV reads a resourceVersion; "" is 0.
func parseRV(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	rv, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("resourceVersion %q: %w", s, ErrInvalid)
	}
	return rv, nil
}

func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
