package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEnqueueDeduplicatesWaitingKeys(t *testing.T) {
	rec := newRecorder(nil)
	c := New(rec, Options{Workers: 1})
	for range 100 {
		c.Enqueue(key("a"))
		c.Enqueue(key("b"))
		c.EnqueueAfter(key("a"), 0)
	}
	start(t, c)
	// One worker and a FIFO queue: once the barrier key is done, any duplicate of a or b
	// would have been reconciled before it.
	eventually(t, "a and b", func() bool { return rec.count(key("a")) >= 1 && rec.count(key("b")) >= 1 })
	c.Enqueue(key("barrier"))
	eventually(t, "the barrier", func() bool { return rec.count(key("barrier")) == 1 })

	for _, k := range []Request{key("a"), key("b")} {
		if got := rec.count(k); got != 1 {
			t.Errorf("%s reconciled %d times for 200 enqueues, want 1", k, got)
		}
	}
}

func TestKeyIsNeverReconciledConcurrently(t *testing.T) {
	release := make(chan struct{})
	rec := newRecorder(func(ctx context.Context, req Request, n int) (Result, error) {
		if req.Name == "hot" && n == 1 {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return Result{}, nil
	})
	c := New(rec, Options{Workers: 4})
	c.Enqueue(key("hot"))
	start(t, c)
	eventually(t, "the first reconcile of hot", func() bool { return rec.count(key("hot")) == 1 })

	// Hammer the key from several goroutines while it is in flight, with idle workers free.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				c.Enqueue(key("hot"))
				c.Enqueue(key(fmt.Sprintf("cold-%d-%d", i, j)))
			}
		})
	}
	wg.Wait()
	eventually(t, "the cold keys", func() bool { return rec.returned() == 8*50 })
	if got := rec.count(key("hot")); got != 1 {
		t.Fatalf("hot reconciled %d times while its first reconcile was in flight, want 1", got)
	}
	close(release)

	// The enqueues during the call are folded into exactly one more reconcile.
	eventually(t, "the follow-up reconcile of hot", func() bool { return rec.count(key("hot")) == 2 })
	eventually(t, "every reconcile to return", func() bool { return rec.returned() == 8*50+2 })
	if _, _, same := rec.snapshot(); same != 1 {
		t.Errorf("one key was reconciled %d times at once, want 1", same)
	}
}

func TestWorkersBoundConcurrency(t *testing.T) {
	tests := []struct {
		name    string
		workers int
		want    int
	}{
		{name: "default", workers: 0, want: DefaultWorkers},
		{name: "one", workers: 1, want: 1},
		{name: "four", workers: 4, want: 4},
	}
	const keys = 20
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			rec := blocking(release)
			c := New(rec, Options{Workers: tt.workers})
			for i := range keys {
				c.Enqueue(key(fmt.Sprint(i)))
			}
			start(t, c)

			eventually(t, "the workers to fill up", func() bool {
				running, _, _ := rec.snapshot()
				return running >= tt.want
			})
			if running, _, _ := rec.snapshot(); running != tt.want {
				t.Fatalf("%d reconciles running with %d workers", running, tt.want)
			}
			// Give a worker beyond the bound time to show itself: the queue would shrink.
			deadline := time.Now().Add(50 * time.Millisecond)
			for time.Now().Before(deadline) {
				if got := c.queue.Len(); got != keys-tt.want {
					t.Fatalf("%d keys taken from the queue with %d workers busy", keys-got, tt.want)
				}
				time.Sleep(time.Millisecond)
			}
			close(release)
			eventually(t, "all keys", func() bool { return rec.returned() == keys })
			if _, most, _ := rec.snapshot(); most != tt.want {
				t.Errorf("at most %d reconciles ran at once, want %d", most, tt.want)
			}
		})
	}
}

func TestBackoffGrowsThenResetsAfterSuccess(t *testing.T) {
	const (
		minBackoff = 40 * time.Millisecond
		maxBackoff = 8 * minBackoff
	)
	// Calls 1-5 fail, 6 succeeds, 7 (a new event) fails, 8 succeeds.
	rec := newRecorder(func(_ context.Context, _ Request, n int) (Result, error) {
		if n <= 5 || n == 7 {
			return Result{}, fmt.Errorf("attempt %d: swarm unreachable", n)
		}
		return Result{}, nil
	})
	c := New(rec, Options{Workers: 1, MinBackoff: minBackoff, MaxBackoff: maxBackoff})
	a := key("a")
	c.Enqueue(a)
	start(t, c)

	eventually(t, "the first success", func() bool { return rec.count(a) == 6 })
	eventually(t, "the backoff to be forgotten", func() bool { return c.limiter.NumRequeues(a) == 0 })
	c.Enqueue(a)
	eventually(t, "the success after the reset", func() bool { return rec.count(a) == 8 })

	ts := rec.times(a)
	want := []time.Duration{minBackoff, 2 * minBackoff, 4 * minBackoff, 8 * minBackoff, maxBackoff}
	for i, w := range want {
		gap := ts[i+1].Sub(ts[i])
		t.Logf("failure %d: retried after %s (backoff %s)", i+1, gap.Round(time.Millisecond), w)
		if gap < w {
			t.Errorf("failure %d: retried after %s, want at least %s", i+1, gap, w)
		}
	}
	// After the success the next failure starts again from the minimum, not from the cap.
	if gap := ts[7].Sub(ts[6]); gap < minBackoff || gap >= maxBackoff {
		t.Errorf("first failure after a success retried after %s, want between %s and %s", gap, minBackoff, maxBackoff)
	}
}

func TestOutcomesOverTime(t *testing.T) {
	const (
		minBackoff = 10 * time.Millisecond
		barrier    = 20 * minBackoff // long after any retry would have happened
	)
	tests := []struct {
		name      string
		answer    func(n int) (Result, error)
		wantCalls int
		minGap    time.Duration
	}{
		{name: "terminal error is not retried", wantCalls: 1,
			answer: func(int) (Result, error) { return Result{}, Terminal(errors.New("unknown recipe")) }},
		{name: "error is retried until success", wantCalls: 3, minGap: minBackoff,
			answer: func(n int) (Result, error) {
				if n < 3 {
					return Result{}, errors.New("conflict")
				}
				return Result{}, nil
			}},
		{name: "requeue after is honoured once", wantCalls: 2, minGap: 5 * minBackoff,
			answer: func(n int) (Result, error) {
				if n == 1 {
					return Result{RequeueAfter: 5 * minBackoff}, nil
				}
				return Result{}, nil
			}},
		{name: "success is not repeated", wantCalls: 1,
			answer: func(int) (Result, error) { return Result{}, nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(func(_ context.Context, req Request, n int) (Result, error) {
				if req.Name == "barrier" {
					return Result{}, nil
				}
				return tt.answer(n)
			})
			c := New(rec, Options{Workers: 1, MinBackoff: minBackoff, MaxBackoff: time.Second})
			a := key("a")
			c.Enqueue(a)
			start(t, c)
			eventually(t, "the expected calls", func() bool { return rec.count(a) >= tt.wantCalls })
			c.EnqueueAfter(key("barrier"), barrier)
			eventually(t, "the barrier", func() bool { return rec.count(key("barrier")) == 1 })

			if got := rec.count(a); got != tt.wantCalls {
				t.Errorf("reconciled %d times, want %d", got, tt.wantCalls)
			}
			ts := rec.times(a)
			for i := 1; i < len(ts); i++ {
				if gap := ts[i].Sub(ts[i-1]); gap < tt.minGap {
					t.Errorf("call %d came %s after the previous, want at least %s", i+1, gap, tt.minGap)
				}
			}
			if n := c.limiter.NumRequeues(a); n != 0 {
				t.Errorf("backoff still tracks %d failures after the final outcome", n)
			}
		})
	}
}

func TestShutdownWaitsForReconcilesInFlight(t *testing.T) {
	release := make(chan struct{})
	var cancelled, finished atomic.Bool
	rec := newRecorder(func(ctx context.Context, req Request, _ int) (Result, error) {
		<-ctx.Done()
		cancelled.Store(true)
		<-release // e.g. a reconciler writing its last status after cancellation
		finished.Store(true)
		return Result{}, ctx.Err()
	})
	c := New(rec, Options{Workers: 1})
	c.Enqueue(key("busy"))
	c.Enqueue(key("queued"))
	stop := start(t, c)
	eventually(t, "the reconcile to start", func() bool { return rec.count(key("busy")) == 1 })

	done := make(chan error, 1)
	go func() { done <- stop() }()
	eventually(t, "the reconcile to see the cancellation", cancelled.Load)
	select {
	case <-done:
		t.Fatal("Run returned while a reconcile was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !finished.Load() {
		t.Error("Run returned before the reconcile finished")
	}
	if got := rec.count(key("queued")); got != 0 {
		t.Errorf("a queued key was reconciled %d times after shutdown began", got)
	}
	c.Enqueue(key("late")) // must not panic or block on a stopped controller
}

func TestResyncRevisitsKnownKeys(t *testing.T) {
	rec := newRecorder(nil)
	c := New(rec, Options{Workers: 1, ResyncPeriod: 10 * time.Millisecond})
	a, b := key("a"), key("b")
	c.Enqueue(a)
	c.EnqueueAfter(b, time.Millisecond)
	start(t, c)
	eventually(t, "three resyncs of each key", func() bool { return rec.count(a) >= 3 && rec.count(b) >= 3 })

	c.Remove(b)
	removedAt := rec.count(b)
	seenA := rec.count(a)
	eventually(t, "three more resyncs of a", func() bool { return rec.count(a) >= seenA+3 })
	// A resync that listed b just before Remove may still reconcile it, once more if b was
	// also in flight; three more of a prove it is not resynced any longer.
	if got := rec.count(b); got > removedAt+2 {
		t.Errorf("removed key reconciled %d more times", got-removedAt)
	}
}

func TestResyncOffTracksNothing(t *testing.T) {
	c := New(newRecorder(nil), Options{})
	t.Cleanup(c.queue.ShutDown)
	c.Enqueue(key("a"))
	if keys := c.knownKeys(); len(keys) != 0 {
		t.Errorf("known keys without resync = %v, want none", keys)
	}
}

func TestRunRejects(t *testing.T) {
	tests := []struct {
		name string
		c    func() *Controller
	}{
		{name: "no reconciler", c: func() *Controller { return New(nil, Options{}) }},
		{name: "min backoff above max", c: func() *Controller {
			return New(newRecorder(nil), Options{MinBackoff: time.Minute, MaxBackoff: time.Second})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.c().Run(t.Context()); err == nil {
				t.Error("Run succeeded, want an error")
			}
		})
	}
}

func TestRunTwice(t *testing.T) {
	rec := newRecorder(nil)
	c := New(rec, Options{})
	c.Enqueue(key("a"))
	start(t, c)
	eventually(t, "the first Run to work", func() bool { return rec.count(key("a")) == 1 })
	if err := c.Run(t.Context()); err == nil {
		t.Error("second Run succeeded, want an error")
	}
}

// BenchmarkThroughput pushes 10,000 distinct keys through a no-op reconciler on two workers.
func BenchmarkThroughput(b *testing.B) {
	const keys = 10_000
	reqs := make([]Request, keys)
	for i := range reqs {
		reqs[i] = key(fmt.Sprintf("run-%05d", i))
	}
	for b.Loop() {
		var n atomic.Int64
		done := make(chan struct{})
		c := New(ReconcilerFunc(func(context.Context, Request) (Result, error) {
			if n.Add(1) == keys {
				close(done)
			}
			return Result{}, nil
		}), Options{Workers: 2})
		ctx, cancel := context.WithCancel(b.Context())
		ran := make(chan error, 1)
		go func() { ran <- c.Run(ctx) }()
		for _, r := range reqs {
			c.Enqueue(r)
		}
		<-done
		cancel()
		if err := <-ran; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(keys*b.N)/b.Elapsed().Seconds(), "reconciles/s")
}
