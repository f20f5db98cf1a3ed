package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/client-go/util/workqueue"
)

// fakeQueue records what handle asks of the queue; any other queue method panics through the
// nil embedded interface, which proves handle does not use it.
type fakeQueue struct {
	workqueue.TypedRateLimitingInterface[Request]
	after   []time.Duration
	forgets int
	adds    int
}

func (q *fakeQueue) Add(Request)                         { q.adds++ }
func (q *fakeQueue) AddAfter(_ Request, d time.Duration) { q.after = append(q.after, d) }
func (q *fakeQueue) Forget(Request)                      { q.forgets++ }

// ownTerminal is an error type from another package that marks itself terminal without
// importing controller.
type ownTerminal struct{ permanent bool }

func (e ownTerminal) Error() string  { return "own terminal" }
func (e ownTerminal) Terminal() bool { return e.permanent }

func TestHandleDecidesNextStep(t *testing.T) {
	const minBackoff = 7 * time.Second
	boom := errors.New("boom")
	tests := []struct {
		name        string
		result      Result
		err         error
		panics      bool
		wantAfter   []time.Duration // AddAfter calls
		wantForgets int
		wantAdds    int
		wantResult  string
		terminal    bool
	}{
		{name: "success forgets", wantForgets: 1, wantResult: resultSuccess},
		{name: "error backs off", err: boom, wantAfter: []time.Duration{minBackoff}, wantResult: resultError},
		{name: "error wins over requeue after", result: Result{RequeueAfter: time.Minute}, err: boom,
			wantAfter: []time.Duration{minBackoff}, wantResult: resultError},
		{name: "terminal is dropped", err: Terminal(boom), wantForgets: 1, wantResult: resultError, terminal: true},
		{name: "wrapped terminal is dropped", err: fmt.Errorf("apply: %w", Terminal(boom)),
			wantForgets: 1, wantResult: resultError, terminal: true},
		{name: "foreign terminal is dropped", err: ownTerminal{permanent: true}, wantForgets: 1, wantResult: resultError,
			terminal: true},
		{name: "foreign non-terminal is retried", err: ownTerminal{}, wantAfter: []time.Duration{minBackoff},
			wantResult: resultError},
		{name: "requeue goes behind the others", result: Result{Requeue: true}, wantForgets: 1, wantAdds: 1,
			wantResult: resultRequeue},
		{name: "requeue after polls", result: Result{RequeueAfter: 42 * time.Second},
			wantAfter: []time.Duration{42 * time.Second}, wantForgets: 1, wantResult: resultRequeueAfter},
		{name: "panic backs off", panics: true, wantAfter: []time.Duration{minBackoff}, wantResult: resultError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := ReconcilerFunc(func(context.Context, Request) (Result, error) {
				if tt.panics {
					panic("nil map")
				}
				return tt.result, tt.err
			})
			c := New(rec, Options{MinBackoff: minBackoff, MaxBackoff: time.Hour})
			c.queue.ShutDown()
			q := &fakeQueue{}
			c.queue = q

			c.handle(t.Context(), key("a"))

			if !equalDurations(q.after, tt.wantAfter) {
				t.Errorf("AddAfter calls = %v, want %v", q.after, tt.wantAfter)
			}
			if q.forgets != tt.wantForgets {
				t.Errorf("Forget calls = %d, want %d", q.forgets, tt.wantForgets)
			}
			if q.adds != tt.wantAdds {
				t.Errorf("Add calls = %d, want %d", q.adds, tt.wantAdds)
			}
			for _, r := range []string{resultSuccess, resultRequeue, resultRequeueAfter, resultError} {
				want := 0.0
				if r == tt.wantResult {
					want = 1
				}
				if got := counterValue(t, c.metrics.total.WithLabelValues(r)); got != want {
					t.Errorf("controller_runtime_reconcile_total{result=%q} = %v, want %v", r, got, want)
				}
			}
			wantTerminal := 0.0
			if tt.terminal {
				wantTerminal = 1
			}
			if got := counterValue(t, c.metrics.terminal); got != wantTerminal {
				t.Errorf("controller_runtime_terminal_reconcile_errors_total = %v, want %v", got, wantTerminal)
			}
		})
	}
}

func TestHandleBackoffDoublesPerKeyUpToMax(t *testing.T) {
	c := New(ReconcilerFunc(func(context.Context, Request) (Result, error) {
		return Result{}, errors.New("down")
	}), Options{MinBackoff: time.Second, MaxBackoff: 5 * time.Second})
	c.queue.ShutDown()
	q := &fakeQueue{}
	c.queue = q

	for range 5 {
		c.handle(t.Context(), key("a"))
	}
	c.handle(t.Context(), key("b"))

	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second,
		time.Second} // b has its own backoff
	if !equalDurations(q.after, want) {
		t.Errorf("backoffs = %v, want %v", q.after, want)
	}
}

func TestHandleShutdownIsNotAFailure(t *testing.T) {
	c := New(ReconcilerFunc(func(ctx context.Context, _ Request) (Result, error) {
		return Result{}, ctx.Err()
	}), Options{})
	c.queue.ShutDown()
	q := &fakeQueue{}
	c.queue = q
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	c.handle(ctx, key("a"))

	if len(q.after) != 0 || q.forgets != 0 {
		t.Errorf("queue touched on shutdown: after %v, forgets %d", q.after, q.forgets)
	}
	if got := counterValue(t, c.metrics.errors); got != 0 {
		t.Errorf("reconcile_errors_total = %v, want 0", got)
	}
}

func TestReconcileTimeout(t *testing.T) {
	tests := []struct {
		name         string
		timeout      time.Duration
		wantDeadline time.Duration // 0: none
	}{
		{name: "explicit", timeout: 50 * time.Millisecond, wantDeadline: 50 * time.Millisecond},
		{name: "default", timeout: 0, wantDeadline: DefaultReconcileTimeout},
		{name: "disabled", timeout: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				hasDeadline bool
				left        time.Duration
			)
			c := New(ReconcilerFunc(func(ctx context.Context, _ Request) (Result, error) {
				var dl time.Time
				dl, hasDeadline = ctx.Deadline()
				left = time.Until(dl)
				return Result{}, nil
			}), Options{ReconcileTimeout: tt.timeout})
			t.Cleanup(c.queue.ShutDown)

			if _, err := c.call(t.Context(), key("a")); err != nil {
				t.Fatal(err)
			}
			if hasDeadline != (tt.wantDeadline > 0) {
				t.Fatalf("deadline set = %v, want %v", hasDeadline, tt.wantDeadline > 0)
			}
			if hasDeadline && (left > tt.wantDeadline || left < tt.wantDeadline-time.Second) {
				t.Errorf("deadline in %s, want about %s", left, tt.wantDeadline)
			}
		})
	}
}

func TestReconcileTimeoutCancelsContext(t *testing.T) {
	const timeout = 50 * time.Millisecond
	var (
		mu     sync.Mutex
		seen   error
		waited time.Duration
	)
	rec := newRecorder(func(ctx context.Context, _ Request, _ int) (Result, error) {
		start := time.Now()
		<-ctx.Done()
		mu.Lock()
		defer mu.Unlock()
		seen, waited = ctx.Err(), time.Since(start)
		return Result{}, Terminal(ctx.Err())
	})
	c := New(rec, Options{ReconcileTimeout: timeout})
	c.Enqueue(key("slow"))
	start(t, c)

	eventually(t, "the reconcile to return", func() bool { return rec.returned() == 1 })
	mu.Lock()
	defer mu.Unlock()
	if !errors.Is(seen, context.DeadlineExceeded) {
		t.Errorf("reconciler saw %v, want deadline exceeded", seen)
	}
	if waited < timeout {
		t.Errorf("context cancelled after %s, before the %s timeout", waited, timeout)
	}
}

func TestPanicIsRecoveredLoggedAndRetried(t *testing.T) {
	var (
		mu   sync.Mutex
		logs bytes.Buffer
	)
	log := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		logs.WriteString(args + "\n")
	}, funcr.Options{})
	rec := newRecorder(func(_ context.Context, _ Request, n int) (Result, error) {
		if n == 1 {
			var m map[string]int
			//lint:ignore SA5000 a real runtime panic, not a test double
			m["x"]++
		}
		return Result{}, nil
	})
	c := New(rec, Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: time.Second})
	c.Enqueue(key("a"))
	ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), log))
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	eventually(t, "the retry after the panic", func() bool { return rec.count(key("a")) == 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	ts := rec.times(key("a"))
	if gap := ts[1].Sub(ts[0]); gap < 20*time.Millisecond {
		t.Errorf("retried after %s, before the %s backoff", gap, 20*time.Millisecond)
	}
	if got := counterValue(t, c.metrics.panics); got != 1 {
		t.Errorf("reconcile_panics_total = %v, want 1", got)
	}
	if got := counterValue(t, c.metrics.errors); got != 1 {
		t.Errorf("reconcile_errors_total = %v, want 1", got)
	}
	mu.Lock()
	defer mu.Unlock()
	out := logs.String()
	for _, want := range []string{`"msg"="reconcile done"`, `"result"="error"`, `"retry"=true`, "assignment to entry in nil map",
		`"stack"=`, "handle_test.go"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestReconcilerContextCarriesLogger(t *testing.T) {
	var (
		mu   sync.Mutex
		logs bytes.Buffer
	)
	log := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		logs.WriteString(args + "\n")
	}, funcr.Options{})
	rec := newRecorder(func(ctx context.Context, _ Request, _ int) (Result, error) {
		logr.FromContextOrDiscard(ctx).Info("inside")
		return Result{}, nil
	})
	c := New(rec, Options{Name: "testruns"})
	c.Enqueue(key("disc-pr4"))
	ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), log))
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	eventually(t, "the reconcile", func() bool { return rec.returned() == 1 })
	cancel()
	<-done

	mu.Lock()
	defer mu.Unlock()
	var line string
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, `"msg"="inside"`) {
			line = l
		}
	}
	for _, want := range []string{`"controller"="testruns"`, `"kind"="TestRun"`, `"name"="disc-pr4"`, `"reconcileID"=`} {
		if !strings.Contains(line, want) {
			t.Errorf("reconciler's log line %q lacks %s", line, want)
		}
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
