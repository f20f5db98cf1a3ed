package gccmd_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/gccmd"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
)

func TestRunnerCollectsPeriodically(t *testing.T) {
	f := swarm(t, invtest.Stack{Name: "run-a", Labels: owned(v1alpha1.LabelTestRun, "a")})
	st, err := store.Open(filepath.Join(t.TempDir(), "swarmrun.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := gccmd.Runner(&cli.Globals{}, &gccmd.RunnerOptions{
		Interval: 10 * time.Millisecond,
		Engine:   func(*cli.Globals) (deploy.Engine, func(), error) { return f, func() {}, nil },
		Now:      func() time.Time { return now },
	})
	ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), logr.Discard()))
	done := make(chan error, 1)
	go func() { done <- run(ctx, st) }()

	// The first pass removes run-a; a stack that turns up later goes at a later tick.
	deadline := time.Now().Add(5 * time.Second)
	for stacks(t, f) != "" {
		if time.Now().After(deadline) {
			t.Fatal("run-a was not collected")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := invtest.Create(t.Context(), f, invtest.Stack{Name: "run-b", Services: 1, Image: probe, Labels: owned(v1alpha1.LabelTestRun, "b")}); err != nil {
		t.Fatal(err)
	}
	for stacks(t, f) != "" {
		if time.Now().After(deadline) {
			t.Fatal("run-b was not collected by a later pass")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("runner returned %v on shutdown", err)
	}
}

func TestRunnerOff(t *testing.T) {
	called := false
	run := gccmd.Runner(&cli.Globals{}, &gccmd.RunnerOptions{
		Engine: func(*cli.Globals) (deploy.Engine, func(), error) { called = true; return nil, func() {}, nil },
	})
	if err := run(t.Context(), nil); err != nil || called {
		t.Errorf("interval 0: err %v, engine connected %v", err, called)
	}
}

func TestBindServeFlags(t *testing.T) {
	var o gccmd.RunnerOptions
	f := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	gccmd.BindServeFlags(f, &o)
	if o.Interval != gccmd.DefaultInterval {
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
func TestRunnerFirstPassAfterAnInterval(t *testing.T) {
	f := swarm(t, invtest.Stack{Name: "run-a", Labels: owned(v1alpha1.LabelTestRun, "a")})
	st, err := store.Open(filepath.Join(t.TempDir(), "swarmrun.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const interval = 200 * time.Millisecond
	first := make(chan time.Time, 1)
	f.SetHook("ServiceList", func(context.Context, fake.Call) error {
		select {
		case first <- time.Now():
		default:
		}
		return nil
	})
	run := gccmd.Runner(&cli.Globals{}, &gccmd.RunnerOptions{
		Interval: interval,
		Engine:   func(*cli.Globals) (deploy.Engine, func(), error) { return f, func() {}, nil },
		Now:      func() time.Time { return now },
	})
	ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), logr.Discard()))
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- run(ctx, st) }()
	select {
	case at := <-first:
		if at.Sub(start) < interval {
			t.Errorf("first pass %s after start, want none before the interval (%s)", at.Sub(start), interval)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pass within 5s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("runner returned %v on shutdown", err)
	}
}
