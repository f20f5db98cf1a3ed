package statuspage

import (
	"sync"
	"time"

	"github.com/swarmrun/swarmrun/warm"
)

// DefaultGCLogSize is how many removals the page keeps.
const DefaultGCLogSize = 50

// GCEntry is one removal a garbage collection pass made, or tried to make.
type GCEntry struct {
	At   time.Time
	Kind string
	Name string
	// Why the item was stale.
	Why string
	// Error, when set, says why the removal failed (it is tried again next pass).
	Error string
}

// GCLog keeps the most recent removals of serve's garbage collection passes in memory, for
// the page. It starts empty with every serve. A nil *GCLog records nothing and has nothing.
type GCLog struct {
	mu      sync.Mutex
	max     int
	now     func() time.Time
	entries []GCEntry // oldest first
}

// NewGCLog returns a log that keeps the max newest entries (DefaultGCLogSize when max ≤ 0),
// timed by now (time.Now when nil).
func NewGCLog(max int, now func() time.Time) *GCLog {
	if max <= 0 {
		max = DefaultGCLogSize
	}
	if now == nil {
		now = time.Now
	}
	return &GCLog{max: max, now: now}
}

// Record keeps what a pass removed and failed to remove. Dry runs removed nothing.
func (l *GCLog) Record(r *warm.Report) {
	if l == nil || r == nil || r.DryRun {
		return
	}
	at := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, it := range r.Removed {
		l.entries = append(l.entries, GCEntry{At: at, Kind: it.Kind, Name: it.Name, Why: it.Why})
	}
	for _, f := range r.Failed {
		l.entries = append(l.entries, GCEntry{At: at, Kind: f.Item.Kind, Name: f.Item.Name, Why: f.Item.Why, Error: f.Error})
	}
	if over := len(l.entries) - l.max; over > 0 {
		l.entries = append(l.entries[:0:0], l.entries[over:]...)
	}
}

// Entries returns the kept removals, newest first.
func (l *GCLog) Entries() []GCEntry {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]GCEntry, len(l.entries))
	for i, e := range l.entries {
		out[len(out)-1-i] = e
	}
	return out
}
