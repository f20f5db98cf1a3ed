package controller

import (
	"context"
	"errors"
	"time"
)

// Request names the object to reconcile: only its key, never what changed, so that the
// reconciler reads the current state instead of trusting an event that may be stale.
type Request struct {
	// Kind is the object's kind, e.g. "TestRun". A controller usually serves one kind; the
	// kind keeps keys of different kinds apart when sources are shared.
	Kind string
	// Name is the object's name.
	Name string
}

// String returns kind/name, for logs and errors.
func (r Request) String() string { return r.Kind + "/" + r.Name }

// Result is what a successful reconcile asks of the driver.
type Result struct {
	// Requeue asks for another reconcile of the same key as soon as a worker is free, behind
	// the keys already waiting: a reconciler that took one step of a longer job asks for the
	// next one this way, and other objects get their turn in between.
	Requeue bool
	// RequeueAfter, when positive, asks for another reconcile of the same key after this
	// long, for state that only time changes (a stack converging, a grace period ending).
	// It wins over Requeue. The key's error backoff is reset either way.
	RequeueAfter time.Duration
}

// IsZero reports whether the result asks for nothing.
func (r Result) IsZero() bool { return !r.Requeue && r.RequeueAfter <= 0 }

// Reconciler converges one object towards its desired state. It is called with a context that
// carries a logger (logr.FromContext) naming the request and that is cancelled after the
// controller's reconcile timeout or on shutdown.
//
// Reconcile must be idempotent and must resume from stored status plus observed state: it may
// be called again for the same key at any time, including after a crash in the middle of an
// earlier call. It returns an error to be retried with backoff, a TerminalError (or any error
// whose chain has a Terminal() bool method returning true) when no retry can help, or a
// Result asking to be polled later.
type Reconciler interface {
	Reconcile(ctx context.Context, req Request) (Result, error)
}

// ReconcilerFunc adapts a function to a Reconciler.
type ReconcilerFunc func(ctx context.Context, req Request) (Result, error)

// Reconcile calls f.
func (f ReconcilerFunc) Reconcile(ctx context.Context, req Request) (Result, error) {
	return f(ctx, req)
}

// TerminalError wraps an error that no retry can help (an invalid spec, a recipe that does
// not exist): the driver logs and counts it but does not requeue the key. A later event for
// the key still reconciles it.
type TerminalError struct {
	// Err is the cause, reported in logs and reachable through errors.Is and errors.As.
	Err error
}

// Error returns the wrapped error's message.
func (e *TerminalError) Error() string {
	if e.Err == nil {
		return "terminal error"
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *TerminalError) Unwrap() error { return e.Err }

// Terminal reports true: it is how IsTerminal recognises the error.
func (e *TerminalError) Terminal() bool { return true }

// Terminal marks err as terminal. It returns nil for a nil err, so that
// `return res, controller.Terminal(err)` is safe on the success path.
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	return &TerminalError{Err: err}
}

// terminal is matched by method rather than by type so that packages below controller in the
// import order (reconcile, warm) can mark their own errors terminal without importing it.
type terminal interface {
	Terminal() bool
}

// IsTerminal reports whether err, or any error it wraps, is terminal.
func IsTerminal(err error) bool {
	var t terminal
	return errors.As(err, &t) && t.Terminal()
}
