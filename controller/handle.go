package controller

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/go-logr/logr"
)

// processNext takes one key off the queue and reconciles it. It returns false once the queue
// is shut down and empty, which ends the worker.
func (c *Controller) processNext(ctx context.Context) bool {
	req, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(req)
	if ctx.Err() != nil {
		// Shutting down: starting work now would only be cancelled. The key is not lost for
		// good: the next start's initial listing brings it back.
		return true
	}
	c.handle(ctx, req)
	return true
}

// handle reconciles req once and decides what happens to its key next. This switch is the
// only place that retries.
func (c *Controller) handle(ctx context.Context, req Request) {
	log := logr.FromContextOrDiscard(ctx).WithValues(
		"kind", req.Kind, "name", req.Name, "reconcileID", c.ids.Add(1))
	ctx = logr.NewContext(ctx, log)

	c.metrics.active.Inc()
	start := c.now()
	res, err := c.call(ctx, req)
	took := c.now().Sub(start)
	c.metrics.active.Dec()

	switch {
	case err != nil && ctx.Err() != nil:
		// Shutdown cancelled the call; the queue no longer takes keys, so there is nothing to
		// schedule, and the cancellation is not the reconciler's failure.
		log.V(1).Info("reconcile interrupted by shutdown", "error", err.Error())
	case IsTerminal(err):
		c.metrics.observe(resultTerminal, took.Seconds())
		c.queue.Forget(req)
		log.Error(err, "reconcile failed, not retrying", "duration", took)
	case err != nil:
		c.metrics.observe(resultError, took.Seconds())
		backoff := c.limiter.When(req)
		c.queue.AddAfter(req, backoff)
		kv := []any{"duration", took, "backoff", backoff, "failures", c.limiter.NumRequeues(req)}
		if p := (*panicError)(nil); errors.As(err, &p) {
			kv = append(kv, "stack", string(p.stack))
		}
		log.Error(err, "reconcile failed, retrying", kv...)
	case res.Requeue && res.RequeueAfter <= 0:
		c.metrics.observe(resultRequeue, took.Seconds())
		c.queue.Forget(req)
		c.queue.Add(req)
		log.V(1).Info("reconciled, going on", "duration", took)
	case res.RequeueAfter > 0:
		c.metrics.observe(resultRequeueAfter, took.Seconds())
		c.queue.Forget(req)
		c.queue.AddAfter(req, res.RequeueAfter)
		log.V(1).Info("reconciled, polling later", "duration", took, "requeueAfter", res.RequeueAfter)
	default:
		c.metrics.observe(resultSuccess, took.Seconds())
		c.queue.Forget(req)
		log.V(1).Info("reconciled", "duration", took)
	}
}

// call runs the reconciler under the per-call timeout and turns a panic into an error, so
// that one bad object cannot take down the controller and its siblings.
func (c *Controller) call(ctx context.Context, req Request) (res Result, err error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	defer func() {
		if v := recover(); v != nil {
			c.metrics.panics.Inc()
			res, err = Result{}, &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return c.rec.Reconcile(ctx, req)
}

// panicError is a recovered panic. It is retried like any other error: the panic may come
// from state that changes.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("reconcile panicked: %v", e.value) }
