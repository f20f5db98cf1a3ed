package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/util/workqueue"
)

// Defaults for Options, exported so that command-line flags can show them.
const (
	DefaultName       = "controller"
	DefaultWorkers    = 2
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 5 * time.Minute
	// DefaultReconcileTimeout is above the default deploy convergence bound (20m), so that a
	// reconcile that waits for one deploy to converge is not cut short by default.
	DefaultReconcileTimeout = 30 * time.Minute
)

// Options configure a Controller. The zero value is usable: New fills the defaults.
type Options struct {
	// Name identifies the controller in logs and metrics; default DefaultName. Controllers
	// sharing a metrics registry need distinct names.
	Name string
	// Workers bounds how many reconciles run at once; default DefaultWorkers.
	Workers int
	// MinBackoff and MaxBackoff bound the per-key exponential backoff after errors: the n-th
	// consecutive failure of a key waits MinBackoff*2^(n-1), at most MaxBackoff. Defaults
	// DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// ResyncPeriod re-enqueues every key the controller has been given (see Remove), so that
	// drift nobody reported is noticed; zero turns it off. To discover objects whose events
	// were missed, run a Ticker source instead (or as well).
	ResyncPeriod time.Duration
	// ReconcileTimeout bounds each Reconcile call through its context; zero means
	// DefaultReconcileTimeout, a negative value no timeout. A reconciler that ignores its
	// context still holds its worker until it returns.
	ReconcileTimeout time.Duration
	// Now is the clock for reconcile durations; default time.Now.
	Now func() time.Time
	// Metrics, when set, receives the controller's collectors while Run runs: the
	// controller_runtime_* and workqueue_* families, labelled with Name (see the package doc).
	Metrics prometheus.Registerer
}

// Controller drives a Reconciler from a queue of Requests. Create it with New, feed it with
// Enqueue or sources, and start it with Run.
//
// After each reconcile the controller decides, in one place (handle), what happens to the
// key: an error requeues it with per-key exponential backoff; a terminal error drops it; a
// positive Result.RequeueAfter schedules it again after that long; success drops it. Any
// outcome but an ordinary error resets the key's backoff. A panic counts as an ordinary
// error.
type Controller struct {
	name     string
	rec      Reconciler
	workers  int
	resync   time.Duration
	timeout  time.Duration
	now      func() time.Time
	registry prometheus.Registerer
	// invalid holds what New found wrong with the options; Run reports it, keeping New a
	// plain constructor.
	invalid error

	limiter workqueue.TypedRateLimiter[Request]
	queue   workqueue.TypedRateLimitingInterface[Request]
	metrics *metrics
	ids     atomic.Uint64

	mu      sync.Mutex
	started bool
	known   map[Request]struct{} // keys the resync revisits; nil when resync is off
}

// New returns a Controller that calls r, with o's zero fields set to their defaults. The
// queue exists from here on, so keys enqueued before Run are reconciled once it starts.
func New(r Reconciler, o Options) *Controller {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.ReconcileTimeout == 0 {
		o.ReconcileTimeout = DefaultReconcileTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var invalid error
	switch {
	case r == nil:
		invalid = errors.New("no reconciler")
	case o.MinBackoff > o.MaxBackoff:
		invalid = fmt.Errorf("min backoff %s exceeds max backoff %s", o.MinBackoff, o.MaxBackoff)
	}
	limiter := workqueue.NewTypedItemExponentialFailureRateLimiter[Request](o.MinBackoff, o.MaxBackoff)
	m := newMetrics(o.Name, o.Workers)
	queueConfig := workqueue.TypedRateLimitingQueueConfig[Request]{Name: o.Name}
	if o.Metrics != nil {
		// Only then: a queue with metrics runs a goroutine until it is shut down.
		queueConfig.MetricsProvider = m.queue
	}
	c := &Controller{
		name:     o.Name,
		rec:      r,
		workers:  o.Workers,
		resync:   o.ResyncPeriod,
		timeout:  o.ReconcileTimeout,
		now:      o.Now,
		registry: o.Metrics,
		invalid:  invalid,
		limiter:  limiter,
		queue:    workqueue.NewTypedRateLimitingQueueWithConfig(limiter, queueConfig),
		metrics:  m,
	}
	if c.resync > 0 {
		c.known = make(map[Request]struct{})
	}
	return c
}

// Enqueue asks for req to be reconciled. A key already waiting is not added twice; a key
// being reconciled is reconciled once more after the current call, never concurrently.
// Enqueue never blocks and does nothing once Run has returned.
func (c *Controller) Enqueue(req Request) {
	c.track(req)
	c.queue.Add(req)
}

// EnqueueAfter asks for req to be reconciled once d has passed.
func (c *Controller) EnqueueAfter(req Request, d time.Duration) {
	c.track(req)
	c.queue.AddAfter(req, d)
}

// Remove stops the resync from revisiting req, for an object that is gone. A reconcile
// already queued still happens, and a later Enqueue tracks the key again.
func (c *Controller) Remove(req Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.known, req)
}

func (c *Controller) track(req Request) {
	if c.known == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.known[req] = struct{}{}
}

func (c *Controller) knownKeys() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]Request, 0, len(c.known))
	for k := range c.known {
		keys = append(keys, k)
	}
	return keys
}

// Run starts the sources, the resync and the workers, and blocks until ctx is done or a
// source fails. On the way out it stops taking keys, cancels the context of the reconciles in
// flight and waits for them to return. It returns nil after ctx is done, or the first source
// error. A Controller runs once: its queue is shut down when Run returns.
//
// Logs go to the logr.Logger in ctx.
func (c *Controller) Run(ctx context.Context, sources ...Source) error {
	if err := c.start(); err != nil {
		return err
	}
	if err := c.metrics.register(c.registry); err != nil {
		c.queue.ShutDown()
		return fmt.Errorf("controller %s: %w", c.name, err)
	}
	defer c.metrics.unregister(c.registry)

	log := logr.FromContextOrDiscard(ctx).WithValues("controller", c.name)
	ctx = logr.NewContext(ctx, log)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var workers sync.WaitGroup
	for range c.workers {
		workers.Go(func() {
			for c.processNext(ctx) {
			}
		})
	}

	failed := make(chan error, len(sources))
	var feeders sync.WaitGroup
	for i, src := range sources {
		feeders.Go(func() {
			// An error after cancellation is the source noticing shutdown, not a failure.
			if err := src.Start(ctx, c.Enqueue); err != nil && ctx.Err() == nil {
				failed <- fmt.Errorf("controller %s: source %d: %w", c.name, i, err)
			}
		})
	}
	if c.resync > 0 {
		feeders.Go(func() { c.resyncLoop(ctx) })
	}
	log.Info("controller started", "workers", c.workers, "sources", len(sources), "resync", c.resync)

	var err error
	select {
	case <-ctx.Done():
	case err = <-failed:
	}
	cancel()
	c.queue.ShutDown()
	workers.Wait()
	feeders.Wait()
	if err != nil {
		log.Info("controller stopped", "reason", "source failed")
	} else {
		log.Info("controller stopped", "reason", "shutdown")
	}
	return err
}

func (c *Controller) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.started:
		return fmt.Errorf("controller %s: already started", c.name)
	case c.invalid != nil:
		c.started = true
		c.queue.ShutDown()
		return fmt.Errorf("controller %s: %w", c.name, c.invalid)
	}
	c.started = true
	return nil
}

// resyncLoop re-enqueues every known key each period. It adds to the queue directly: the keys
// are already tracked, and a key waiting out a backoff is retried early, which a resync
// period far longer than the backoff makes rare and harmless.
func (c *Controller) resyncLoop(ctx context.Context) {
	log := logr.FromContextOrDiscard(ctx)
	tick := time.NewTicker(c.resync)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			keys := c.knownKeys()
			for _, req := range keys {
				c.queue.Add(req)
			}
			log.V(1).Info("resync", "keys", len(keys))
		}
	}
}
