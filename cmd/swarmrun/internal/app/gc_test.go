package app_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/app"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
)

const probe = "swarmrun-probe:1"

var now = time.Date(2026, 6, 17, 12, 0, 0, 0, time.UTC)

// swarm is a fake engine whose objects were created an hour before now.
func swarm(t *testing.T, stacks ...invtest.Stack) *fake.Fake {
	t.Helper()
	return invtest.Swarm(t, now.Add(-time.Hour), probe, stacks...)
}

func stacks(t *testing.T, f *fake.Fake) string {
	t.Helper()
	return invtest.Live(t, f)
}

// runGC runs the controllers with garbage collection every interval over a new store.
func runGC(t *testing.T, f *fake.Fake, interval time.Duration) func() {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "swarmrun.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), logr.Discard()))
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{Store: st, Engine: f, DataDir: dir, NoEvents: true,
			GC: &app.GCOptions{Interval: interval}, Now: func() time.Time { return now }})
	}()
	return func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controllers returned %v on shutdown", err)
		}
		st.Close()
	}
}

func TestGCCollectsPeriodically(t *testing.T) {
	f := swarm(t, invtest.Stack{Name: "run-a", Labels: invtest.Owned(v1alpha1.LabelTestRun, "a")})
	stop := runGC(t, f, 10*time.Millisecond)
	defer stop()

	// The first pass removes run-a; a stack that turns up later goes at a later tick.
	deadline := time.Now().Add(5 * time.Second)
	for stacks(t, f) != "" {
		if time.Now().After(deadline) {
			t.Fatal("run-a was not collected")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := invtest.Create(t.Context(), f, invtest.Stack{Name: "run-b", Services: 1, Image: probe, Labels: invtest.Owned(v1alpha1.LabelTestRun, "b")}); err != nil {
		t.Fatal(err)
	}
	for stacks(t, f) != "" {
		if time.Now().After(deadline) {
			t.Fatal("run-b was not collected by a later pass")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGCOff(t *testing.T) {
	f := swarm(t, invtest.Stack{Name: "run-a", Labels: invtest.Owned(v1alpha1.LabelTestRun, "a")})
	stop := runGC(t, f, 0)
	time.Sleep(100 * time.Millisecond)
	stop()
	if got := stacks(t, f); got != "run-a" {
		t.Errorf("interval 0: stacks %q, want run-a kept", got)
	}
}

func TestBindGC(t *testing.T) {
	var o app.GCOptions
	f := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	app.BindGC(f, &o)
	if o.Interval != app.DefaultGCInterval {
		t.Errorf("default interval %s", o.Interval)
	}
	if err := f.Parse([]string{"--gc-interval", "0", "--gc-adopt-warm", "--gc-grace", "1h", "--gc-max-deletions", "3"}); err != nil {
		t.Fatal(err)
	}
	if o.Interval != 0 || !o.Policy.AdoptWarm || o.Policy.Grace != time.Hour || o.MaxDeletions != 3 {
		t.Errorf("options = %+v", o)
	}
}

// No pass at start: the first one comes an interval later.
func TestGCFirstPassAfterAnInterval(t *testing.T) {
	f := swarm(t, invtest.Stack{Name: "run-a", Labels: invtest.Owned(v1alpha1.LabelTestRun, "a")})
	const interval = 200 * time.Millisecond
	first := make(chan time.Time, 1)
	f.SetHook("VolumeList", func(context.Context, fake.Call) error {
		select {
		case first <- time.Now():
		default:
		}
		return nil
	})
	start := time.Now()
	stop := runGC(t, f, interval)
	defer stop()
	select {
	case at := <-first:
		if at.Sub(start) < interval {
			t.Errorf("first pass %s after start, want none before the interval (%s)", at.Sub(start), interval)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pass within 5s")
	}
}
