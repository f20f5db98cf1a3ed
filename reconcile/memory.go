package reconcile

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/internal/mask"
)

// memory is what this process remembers of the runs in flight, to spare later steps work
// that earlier steps did: the opened source, the renders and the masker that learnt the run's
// secrets from them. It is never needed for correctness: a restarted process starts empty and
// every step rebuilds what it uses from the stored status.
type memory struct {
	mu   sync.Mutex
	runs map[string]*runMemory
	// admitted are the runs in flight, by name: started and not finished.
	admitted map[string]bool
	// waiting are the runs that asked for a place in turn, first come first.
	waiting []string
}

// runMemory is one run's part of memory, keyed by the TestRun's UID so that a TestRun
// deleted and created again under the same name starts afresh. Only the worker reconciling
// the run uses it (the controller never reconciles one key twice at once).
type runMemory struct {
	uid      string
	masker   *mask.Masker
	src      *stack.Source
	prepared map[string]*stack.Prepared
	// applied is when each role's apply started, to the nanosecond (the record keeps
	// seconds), for the convergence time reported as progress.
	applied map[string]time.Time
	// shipped are the checks each role's commit ships (v1alpha1.RecipeTestsFile), by role;
	// headEarly the head's, read before the head is prepared (see earlyHeadChecks).
	shipped   map[string]v1alpha1.Checks
	headEarly *v1alpha1.Checks
}

func newMemory() *memory { return &memory{runs: map[string]*runMemory{}, admitted: map[string]bool{}} }

// admit reports whether the run named name may start: it is in flight already, or fewer than
// limit runs are. A run that may not waits its turn. A run found started (after a restart)
// is counted in flight without asking.
func (m *memory) admit(name string, started bool, limit int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.admitted[name] || started || limit <= 0 {
		m.admitted[name] = true
		m.waiting = slices.DeleteFunc(m.waiting, func(w string) bool { return w == name })
		return true
	}
	if len(m.admitted) < limit && (len(m.waiting) == 0 || m.waiting[0] == name) {
		m.admitted[name] = true
		m.waiting = slices.DeleteFunc(m.waiting, func(w string) bool { return w == name })
		return true
	}
	if !slices.Contains(m.waiting, name) {
		m.waiting = append(m.waiting, name)
	}
	return false
}

// release ends the run named name's place in flight, and returns the run waiting first, if
// any, to be woken.
func (m *memory) release(name string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.admitted, name)
	m.waiting = slices.DeleteFunc(m.waiting, func(w string) bool { return w == name })
	if len(m.waiting) > 0 {
		return m.waiting[0]
	}
	return ""
}

// of returns tr's memory, new when tr is not remembered or is another object of its name.
func (m *memory) of(tr *v1alpha1.TestRun) *runMemory {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rm := m.runs[tr.Name]; rm != nil && rm.uid == tr.UID {
		return rm
	}
	rm := &runMemory{uid: tr.UID, masker: mask.New(), prepared: map[string]*stack.Prepared{}, applied: map[string]time.Time{},
		shipped: map[string]v1alpha1.Checks{}}
	m.runs[tr.Name] = rm
	return rm
}

// drop forgets the run named name.
func (m *memory) drop(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.runs, name)
}

// checkBatches runs the check batches of runs in the background, so that a step starts them
// and returns, and a later step collects their results: a check may take minutes, and no
// worker waits for one. The backup and restore of the backup tiers and the copy of a warm
// stack's volumes run as batches too. A batch is keyed by its run's name, UID and the batch's
// name (the moment the checks run at). Results live in memory until a step collects them; a
// restarted process, which remembers none, runs an unfinished batch again.
type checkBatches struct {
	mu      sync.Mutex
	batches map[batchKey]*batch
	slots   chan struct{}
	wake    func(name string)
	wg      sync.WaitGroup
	stopped bool
}

type batchKey struct{ name, uid, batch string }

type batch struct {
	cancel context.CancelFunc
	done   bool
	out    outcome
}

// outcome is what a batch found: its checks' results, the files it kept (a backup's
// archive), and the volumes it copied (a warm base).
type outcome struct {
	checks    []v1alpha1.CheckResult
	artifacts []v1alpha1.Artifact
	copied    []v1alpha1.VolumeCopy
}

func newCheckBatches(workers int, wake func(name string)) *checkBatches {
	return &checkBatches{batches: map[batchKey]*batch{}, slots: make(chan struct{}, workers), wake: wake}
}

// collect returns the outcome of the run's batch when it is done, and forgets it then. A
// batch not running is started with run (which runs the checks one after the other, or a
// backup, and returns what it found), in the background, under a context that outlives the
// call.
func (c *checkBatches) collect(ctx context.Context, tr *v1alpha1.TestRun, name string, run func(context.Context) outcome) (outcome, bool) {
	k := batchKey{name: tr.Name, uid: tr.UID, batch: name}
	c.mu.Lock()
	defer c.mu.Unlock()
	if b := c.batches[k]; b != nil {
		if !b.done {
			return outcome{}, false
		}
		delete(c.batches, k)
		return b.out, true
	}
	if c.stopped {
		return outcome{}, false
	}
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b := &batch{cancel: cancel}
	c.batches[k] = b
	c.wg.Go(func() {
		defer cancel()
		select {
		case c.slots <- struct{}{}:
		case <-bctx.Done():
			return
		}
		res := run(bctx)
		<-c.slots
		c.mu.Lock()
		b.done, b.out = bctx.Err() == nil, res
		if !b.done && c.batches[k] == b {
			delete(c.batches, k)
		}
		c.mu.Unlock()
		c.wake(k.name)
	})
	return outcome{}, false
}

// cancel stops and forgets every batch of the run named name.
func (c *checkBatches) cancel(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, b := range c.batches {
		if k.name == name {
			b.cancel()
			delete(c.batches, k)
		}
	}
}

// stop cancels every batch and waits for them to return.
func (c *checkBatches) stop() {
	c.mu.Lock()
	c.stopped = true
	for k, b := range c.batches {
		b.cancel()
		delete(c.batches, k)
	}
	c.mu.Unlock()
	c.wg.Wait()
}
