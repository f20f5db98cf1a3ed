package controller

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
)

// recorder is a fake Reconciler that records every call and answers with answer, which sees
// the 1-based number of the call for that key.
type recorder struct {
	answer func(ctx context.Context, req Request, n int) (Result, error)

	mu          sync.Mutex
	calls       map[Request][]time.Time
	inflight    map[Request]int
	running     int
	maxRunning  int
	maxSameKey  int
	returnedAll int
}

func newRecorder(answer func(ctx context.Context, req Request, n int) (Result, error)) *recorder {
	if answer == nil {
		answer = func(context.Context, Request, int) (Result, error) { return Result{}, nil }
	}
	return &recorder{
		answer:   answer,
		calls:    make(map[Request][]time.Time),
		inflight: make(map[Request]int),
	}
}

func (r *recorder) Reconcile(ctx context.Context, req Request) (Result, error) {
	r.mu.Lock()
	r.calls[req] = append(r.calls[req], time.Now())
	n := len(r.calls[req])
	r.running++
	r.maxRunning = max(r.maxRunning, r.running)
	r.inflight[req]++
	r.maxSameKey = max(r.maxSameKey, r.inflight[req])
	r.mu.Unlock()

	defer func() {
		r.mu.Lock()
		r.running--
		r.inflight[req]--
		r.returnedAll++
		r.mu.Unlock()
	}()
	return r.answer(ctx, req, n)
}

// count returns how many times req has been reconciled.
func (r *recorder) count(req Request) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls[req])
}

// times returns when each reconcile of req started.
func (r *recorder) times(req Request) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.calls[req]...)
}

// snapshot returns the running count, the most ever running, and the most ever running for
// one key.
func (r *recorder) snapshot() (running, maxRunning, maxSameKey int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running, r.maxRunning, r.maxSameKey
}

// returned reports how many calls have returned.
func (r *recorder) returned() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.returnedAll
}

// start runs c in the background with a test logger and returns a function that stops it
// and returns Run's error. The test's cleanup stops it too.
func start(t *testing.T, c *Controller, sources ...Source) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), testr.New(t)))
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, sources...) }()
	stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancellation")
			return nil
		}
	})
	t.Cleanup(func() { _ = stop() })
	return stop
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// key is a TestRun request for name.
func key(name string) Request { return Request{Kind: "TestRun", Name: name} }

// blocking is a recorder whose reconciles wait until release is closed (or their context
// ends).
func blocking(release <-chan struct{}) *recorder {
	return newRecorder(func(ctx context.Context, _ Request, _ int) (Result, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return Result{}, nil
	})
}
