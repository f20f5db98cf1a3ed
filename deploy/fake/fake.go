package fake

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy"
)

var _ deploy.Engine = (*Fake)(nil)

// Options configure a Fake. The zero value is an automatic fake on the wall clock.
type Options struct {
	// Now is the clock. Restart delays, update monitor periods and healthcheck timeouts are
	// measured on it, as the engine measures them on its own. Default: time.Now. Tests that
	// need control pass a Clock's Now.
	Now func() time.Time
	// Manual stops automatic progress: tasks and rollouts move only when the test calls Step
	// or Settle. Without it every call first brings the swarm up to date, so the tasks of a
	// present image are running by the time ServiceCreate returns.
	Manual bool
	// FastRollouts completes a rolling update as soon as every slot runs the new spec. The
	// engine first waits the update's monitor period (UpdateConfig.Monitor, default 5 s);
	// throughput benchmarks on the wall clock skip it.
	FastRollouts bool
	// Images are present from the start, as AddImage would add them.
	Images []string
	// Hostname of the single node. Default: "fake".
	Hostname string
	// ServerVersion reported by Info. Default: "20.10.24".
	ServerVersion string
}

// Call is one call of an Engine method, as hooks see it: the method name and its arguments
// after ctx, in the order of the method's signature.
type Call struct {
	Method string
	Args   []any
}

// Hook runs before an Engine method does its work, outside the fake's lock (a hook may call
// the fake). A non-nil error is returned by the method instead of doing anything.
type Hook func(ctx context.Context, call Call) error

// Fake is an in-memory single-node swarm implementing deploy.Engine. Create it with New.
type Fake struct {
	now          func() time.Time
	manual       bool
	fastRollouts bool

	mu    sync.Mutex
	index uint64 // the store's version counter, shared by all objects like swarmkit's raft index
	seq   uint64 // source of object IDs
	// dirty says a write happened since the last settle; wakeAt is the earliest time a timed
	// transition (restart delay, monitor period, healthcheck) is due.
	dirty  bool
	wakeAt time.Time
	// settledAt is the time the swarm was last brought up to; virtual is the time being
	// simulated during a settle (zero otherwise).
	settledAt time.Time
	virtual   time.Time

	node     swarm.Node
	hostname string
	version  string

	services map[string]*service // by ID
	order    []*service          // creation order, for deterministic stepping
	networks map[string]*netObj  // by ID
	secrets  map[string]*swarm.Secret
	configs  map[string]*swarm.Config
	volumes  map[string]*volObj // by name
	images   map[string]imageObj
	// imageKeys caches normalised image references.
	imageKeys map[string]string
	dists     map[string]distAnswer
	execs     map[string]*execObj
	// standalone are the containers of ContainerCreate, by ID; imageFiles the files each
	// image's containers start with (SetImageFiles).
	standalone map[string]*containerObj
	imageFiles map[string]map[string]string

	crashImage   map[string]int
	crashService map[string]int
	crashFn      func(service string, spec swarm.TaskSpec) (int, bool)
	unhealthy    map[string]bool
	execFn       func(containerID string, cmd []string) ExecResult
	logs         map[string]string

	calls    map[string]int
	failNext map[string][]error
	hooks    map[string]Hook

	subs map[*subscriber]struct{}

	// dying are the tasks of removed services, on their way out of the store.
	dying []*task
}

// New returns an empty swarm with one ready, active manager node.
func New(opts Options) *Fake {
	f := &Fake{
		now:          opts.Now,
		manual:       opts.Manual,
		fastRollouts: opts.FastRollouts,
		hostname:     opts.Hostname,
		version:      opts.ServerVersion,
		services:     map[string]*service{},
		networks:     map[string]*netObj{},
		secrets:      map[string]*swarm.Secret{},
		configs:      map[string]*swarm.Config{},
		volumes:      map[string]*volObj{},
		images:       map[string]imageObj{},
		imageKeys:    map[string]string{},
		dists:        map[string]distAnswer{},
		execs:        map[string]*execObj{},
		standalone:   map[string]*containerObj{},
		imageFiles:   map[string]map[string]string{},
		crashImage:   map[string]int{},
		crashService: map[string]int{},
		unhealthy:    map[string]bool{},
		logs:         map[string]string{},
		calls:        map[string]int{},
		failNext:     map[string][]error{},
		hooks:        map[string]Hook{},
		subs:         map[*subscriber]struct{}{},
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.hostname == "" {
		f.hostname = "fake"
	}
	if f.version == "" {
		f.version = "20.10.24"
	}
	f.node = f.newNode()
	f.addBuiltinNetworks()
	for _, ref := range opts.Images {
		f.addImageLocked(ref)
	}
	return f
}

// FailNext makes the next call of method (e.g. "ServiceUpdate") return err without doing
// anything. Several calls queue up, one error per call.
func (f *Fake) FailNext(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext[method] = append(f.failNext[method], err)
}

// SetHook runs hook before every call of method ("*" for every method); nil removes it.
func (f *Fake) SetHook(method string, hook Hook) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if hook == nil {
		delete(f.hooks, method)
		return
	}
	f.hooks[method] = hook
}

// Calls is the number of times method was called, failed calls included.
func (f *Fake) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// ResetCalls sets every call count back to zero.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = map[string]int{}
}

// Step moves the swarm one step: every task one state further, every orchestrator and
// rolling update one decision further. It reports whether anything changed. Timed
// transitions wait for the clock whatever the mode.
func (f *Fake) Step() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := f.now(); now.After(f.settledAt) {
		f.settledAt = now
	}
	return f.step()
}

// Settle steps until nothing more can change at the current time.
func (f *Fake) Settle() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settleLocked()
}

// enter counts a call, then returns the injected error for it, if any: a queued FailNext
// error, then the hook's answer, then a cancelled ctx (as the client's request would fail).
func (f *Fake) enter(ctx context.Context, method string, args ...any) error {
	f.mu.Lock()
	f.calls[method]++
	var injected error
	if q := f.failNext[method]; len(q) > 0 {
		injected = q[0]
		f.failNext[method] = q[1:]
	}
	hooks := []Hook{f.hooks["*"], f.hooks[method]}
	f.mu.Unlock()
	if injected != nil {
		return injected
	}
	for _, h := range hooks {
		if h == nil {
			continue
		}
		if err := h(ctx, Call{Method: method, Args: args}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// lock takes the fake's lock and, in automatic mode, brings the swarm up to date. Every
// Engine method works between lock and unlock.
func (f *Fake) lock() {
	f.mu.Lock()
	if !f.manual {
		f.settleIfDue()
	}
}

// unlock settles what the call changed (automatic mode) and releases the lock.
func (f *Fake) unlock() {
	if !f.manual {
		f.settleIfDue()
	}
	f.mu.Unlock()
}

func (f *Fake) settleIfDue() {
	if f.dirty || (!f.wakeAt.IsZero() && !f.now().Before(f.wakeAt)) {
		f.settleLocked()
	}
}

// maxSettleSteps bounds a settle: every chain of transitions is short, so reaching it means a
// bug in the model rather than real progress.
const maxSettleSteps = 10000

// settleLocked brings the swarm up to the clock's time in order: it steps until nothing
// changes, then jumps to the next timed transition (a restart delay, a monitor period, a
// healthcheck timeout) that is due, and so on. A clock moved by a minute at once thus sees
// every restart of a crash loop in that minute, as the engine would have.
func (f *Fake) settleLocked() {
	end := f.now()
	if f.settledAt.IsZero() || f.settledAt.After(end) {
		f.settledAt = end
	}
	f.virtual = f.settledAt
	defer func() { f.virtual = time.Time{} }()
	for i := 0; i < maxSettleSteps; i++ {
		if f.step() {
			continue
		}
		if !f.wakeAt.IsZero() && f.wakeAt.After(f.virtual) && !f.wakeAt.After(end) {
			f.virtual = f.wakeAt
			continue
		}
		if f.virtual.Before(end) {
			f.virtual = end
			continue
		}
		break
	}
	f.settledAt = end
	f.dirty = false
}

// clock is the time of the swarm: the clock's, or while settling, the time up to which the
// swarm has been brought.
func (f *Fake) clock() time.Time {
	if !f.virtual.IsZero() {
		return f.virtual
	}
	return f.now()
}

// bump advances the version counter: every write to the store gets a new, higher index. A
// write outside a settle happens at the clock's time, so a later settle never simulates
// anything before it: the swarm's history does not run backwards.
func (f *Fake) bump() swarm.Version {
	f.index++
	f.dirty = true
	if f.virtual.IsZero() {
		if now := f.now(); now.After(f.settledAt) {
			f.settledAt = now
		}
	}
	return swarm.Version{Index: f.index}
}

// wake records that a timed transition of service s is due at t.
func (f *Fake) wake(s *service, t time.Time) {
	if s.wakeAt.IsZero() || t.Before(s.wakeAt) {
		s.wakeAt = t
	}
}

// noteWake keeps the earliest due time of all services, which decides when to settle next.
func (f *Fake) noteWake(t time.Time) {
	if !t.IsZero() && (f.wakeAt.IsZero() || t.Before(f.wakeAt)) {
		f.wakeAt = t
	}
}

// eachTask calls fn for every task in the store: the services' and the dying ones.
func (f *Fake) eachTask(fn func(t *task)) {
	for _, s := range f.order {
		for _, t := range s.tasks {
			fn(t)
		}
	}
	for _, t := range f.dying {
		fn(t)
	}
}

// stirAll makes every service re-evaluate its tasks: a behaviour or an image changed.
func (f *Fake) stirAll() {
	for _, s := range f.order {
		s.busy = true
	}
	f.dirty = true
}

// newID returns a swarm-style object ID: 25 lower-case base-36 characters.
func (f *Fake) newID() string {
	f.seq++
	x := f.seq*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019
	s := strconv.FormatUint(mix(x), 36) + strconv.FormatUint(mix(x+1), 36) + strconv.FormatUint(mix(x+2), 36)
	for len(s) < 25 {
		s += "0"
	}
	return s[:25]
}

// newHexID returns a container-, exec- or image-style ID: 64 hex characters.
func (f *Fake) newHexID() string {
	f.seq++
	var s string
	for i := uint64(0); i < 4; i++ {
		s += fmt.Sprintf("%016x", mix(f.seq*0x9E3779B97F4A7C15+i))
	}
	return s
}

// mix is splitmix64's finaliser: deterministic, well spread IDs without a random source.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// clone deep-copies v through JSON, as the wire does: callers never share memory with the
// fake's store, and what they get has the wire's shape (empty fields omitted).
func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fake: marshal %T: %v", v, err))
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("fake: unmarshal %T: %v", v, err))
	}
	return out
}

// sortedKeys returns m's keys in order, for deterministic listings.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
