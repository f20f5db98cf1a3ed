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
//
// Each reconcile ends in one summary line, "reconcile done", with the request (kind, name,
// reconcileID, and the controller from Run's logger), the result (as the result label of
// controller_runtime_reconcile_total), the duration and, as they apply, requeueAfter, backoff,
// failures and the error. Errors are logged at V(0) through Error; every other outcome at
// V(1), since a reconcile that went well is routine: what it changed, the reconciler logs at
// V(0) itself.
func (c *Controller) handle(ctx context.Context, req Request) {
	log := logr.FromContextOrDiscard(ctx).WithValues(
		"kind", req.Kind, "name", req.Name, "reconcileID", c.ids.Add(1))
	ctx = logr.NewContext(ctx, log)

	c.metrics.active.Inc()
	start := c.now()
	res, err := c.call(ctx, req)
	took := c.now().Sub(start)
	c.metrics.active.Dec()

	const done = "reconcile done"
	switch {
	case err != nil && ctx.Err() != nil:
		// Shutdown cancelled the call; the queue no longer takes keys, so there is nothing to
		// schedule, and the cancellation is not the reconciler's failure.
		log.V(1).Info("reconcile interrupted by shutdown", "duration", took, "error", err.Error())
	case IsTerminal(err):
		c.metrics.observe(resultError, true, took.Seconds())
		c.queue.Forget(req)
		log.Error(err, done, "result", resultError, "retry", false, "duration", took)
	case err != nil:
		c.metrics.observe(resultError, false, took.Seconds())
		backoff := c.limiter.When(req)
		c.queue.AddAfter(req, backoff)
		kv := []any{"result", resultError, "retry", true, "duration", took, "backoff", backoff,
			"failures", c.limiter.NumRequeues(req)}
		if p := (*panicError)(nil); errors.As(err, &p) {
			kv = append(kv, "stack", string(p.stack))
		}
		log.Error(err, done, kv...)
	case res.Requeue && res.RequeueAfter <= 0:
		c.metrics.observe(resultRequeue, false, took.Seconds())
		c.queue.Forget(req)
		c.queue.Add(req)
		log.V(1).Info(done, "result", resultRequeue, "duration", took)
	case res.RequeueAfter > 0:
		c.metrics.observe(resultRequeueAfter, false, took.Seconds())
		c.queue.Forget(req)
		c.queue.AddAfter(req, res.RequeueAfter)
		log.V(1).Info(done, "result", resultRequeueAfter, "duration", took, "requeueAfter", res.RequeueAfter)
	default:
		c.metrics.observe(resultSuccess, false, took.Seconds())
		c.queue.Forget(req)
		log.V(1).Info(done, "result", resultSuccess, "duration", took)
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
