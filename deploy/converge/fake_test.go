package converge_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// The tests in this file drive Wait's loop against the in-memory engine: outcomes that need
// no real swarm, and the loop's own duties (progress, removal, cancellation, lost events).

func fakeCreate(t *testing.T, f *fake.Fake, spec swarm.ServiceSpec) converge.Target {
	t.Helper()
	resp, err := f.ServiceCreate(t.Context(), spec, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatalf("create service %s: %v", spec.Name, err)
	}
	return converge.Target{ServiceID: resp.ID, Name: spec.Name, Changed: true}
}

func fakeUpdate(t *testing.T, f *fake.Fake, id string, mutate func(*swarm.ServiceSpec)) converge.Target {
	t.Helper()
	svc, _, err := f.ServiceInspectWithRaw(t.Context(), id, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := svc.Spec
	mutate(&spec)
	if _, err := f.ServiceUpdate(t.Context(), id, svc.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	return converge.Target{ServiceID: id, Name: spec.Name, PrevVersion: svc.Version.Index, Changed: true}
}

func TestWaitOnFake(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, f *fake.Fake) []converge.Target
		reason converge.Reason // empty: must converge
	}{
		{
			name: "services converge",
			setup: func(t *testing.T, f *fake.Fake) []converge.Target {
				return []converge.Target{
					fakeCreate(t, f, probeSpec("s", "a", "app:1", withReplicas(3))),
					fakeCreate(t, f, probeSpec("s", "b", "app:1")),
				}
			},
		},
		{
			name: "missing image",
			setup: func(t *testing.T, f *fake.Fake) []converge.Target {
				return []converge.Target{fakeCreate(t, f, probeSpec("s", "a", "app:missing"))}
			},
			reason: converge.ImageNotFound,
		},
		{
			name: "crash on update rolls back",
			setup: func(t *testing.T, f *fake.Fake) []converge.Target {
				first := fakeCreate(t, f, probeSpec("s", "a", "app:1", withFailureAction(swarm.UpdateFailureActionRollback)))
				f.CrashImage("app:2", 1)
				return []converge.Target{fakeUpdate(t, f, first.ServiceID, func(s *swarm.ServiceSpec) {
					s.TaskTemplate.ContainerSpec.Image = "app:2"
				})}
			},
			reason: converge.RolledBack,
		},
		{
			name: "crash on update pauses",
			setup: func(t *testing.T, f *fake.Fake) []converge.Target {
				first := fakeCreate(t, f, probeSpec("s", "a", "app:1"))
				f.CrashImage("app:2", 1)
				return []converge.Target{fakeUpdate(t, f, first.ServiceID, func(s *swarm.ServiceSpec) {
					s.TaskTemplate.ContainerSpec.Image = "app:2"
				})}
			},
			reason: converge.UpdatePaused,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := fake.New(fake.Options{Images: []string{"app:1", "app:2"}})
			targets := tt.setup(t, f)
			rep, err := converge.Wait(t.Context(), f, targets, converge.Options{Timeout: 20 * time.Second, Stable: 50 * time.Millisecond, Poll: 20 * time.Millisecond})
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("wait: %v", err)
				}
				for _, s := range rep.Services {
					if s.Phase != converge.PhaseConverged || s.Running != s.Desired {
						t.Errorf("service %s: %s %d/%d", s.Name, s.Phase, s.Running, s.Desired)
					}
				}
				return
			}
			var ce *converge.Error
			if !errors.As(err, &ce) || ce.Reason != tt.reason {
				t.Fatalf("want reason %s, got %v", tt.reason, err)
			}
		})
	}
}

func TestWaitProgressReportsChangesOnly(t *testing.T) {
	f := fake.New(fake.Options{Images: []string{"app:1"}})
	target := fakeCreate(t, f, probeSpec("s", "a", "app:1", withReplicas(2)))
	var got []converge.Progress
	_, err := converge.Wait(t.Context(), f, []converge.Target{target}, converge.Options{
		Timeout: 10 * time.Second, Stable: 300 * time.Millisecond, Poll: 10 * time.Millisecond,
		Progress: func(p converge.Progress) { got = append(got, p) },
	})
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	// Polled every 10 ms through a 300 ms window, yet reported once per state.
	if len(got) != 2 || got[0].Phase != converge.PhaseStabilising || got[1].Phase != converge.PhaseConverged {
		t.Fatalf("progress %+v, want Stabilising then Converged", got)
	}
	if p := got[1]; p.Service != target.Name || p.Running != 2 || p.Desired != 2 || p.Mode != "replicated" {
		t.Errorf("final progress %+v", p)
	}
}

func TestWaitServiceRemoved(t *testing.T) {
	f := fake.New(fake.Options{Images: []string{"app:1"}})
	target := fakeCreate(t, f, probeSpec("s", "a", "app:1"))
	f.NeverHealthy(target.Name)
	removed := false
	_, err := converge.Wait(t.Context(), f, []converge.Target{target}, converge.Options{
		Timeout: 10 * time.Second, Poll: 10 * time.Millisecond, MaxFailures: -1,
		Progress: func(converge.Progress) {
			if !removed {
				removed = true
				if err := f.ServiceRemove(t.Context(), target.ServiceID); err != nil {
					t.Errorf("remove: %v", err)
				}
			}
		},
	})
	var ce *converge.Error
	if !errors.As(err, &ce) || ce.Reason != converge.ServiceRemoved || ce.Service != target.Name {
		t.Fatalf("want ServiceRemoved for %s, got %v", target.Name, err)
	}
}

func TestWaitCancelled(t *testing.T) {
	f := fake.New(fake.Options{Images: []string{"app:1"}})
	target := fakeCreate(t, f, probeSpec("s", "a", "app:1"))
	ctx, cancel := context.WithCancel(t.Context())
	rep, err := converge.Wait(ctx, f, []converge.Target{target}, converge.Options{
		Poll: 10 * time.Millisecond, MaxFailures: -1,
		Progress: func(converge.Progress) { cancel() },
	})
	var ce *converge.Error
	if !errors.Is(err, context.Canceled) || errors.As(err, &ce) {
		t.Fatalf("want a plain cancellation, got %v", err)
	}
	if rep == nil || len(rep.Services) != 1 || rep.Services[0].Phase == converge.PhaseConverged {
		t.Errorf("report %+v, want the unconverged service", rep)
	}
}

func TestWaitPollsWhenEventsFail(t *testing.T) {
	f := fake.New(fake.Options{Images: []string{"app:1"}})
	f.SetHook("Events", func(context.Context, fake.Call) error { return errors.New("stream refused") })
	target := fakeCreate(t, f, probeSpec("s", "a", "app:1"))
	if _, err := converge.Wait(t.Context(), f, []converge.Target{target}, converge.Options{
		Timeout: 10 * time.Second, Stable: 50 * time.Millisecond, Poll: 20 * time.Millisecond,
	}); err != nil {
		t.Fatalf("wait without events: %v", err)
	}
	if n := f.Calls("Events"); n < 1 {
		t.Errorf("Events called %d times, want at least one subscription attempt", n)
	}
}

func TestWaitEngineErrorEndsWait(t *testing.T) {
	f := fake.New(fake.Options{Images: []string{"app:1"}})
	target := fakeCreate(t, f, probeSpec("s", "a", "app:1"))
	boom := errors.New("engine unavailable")
	f.FailNext("NodeList", boom)
	_, err := converge.Wait(t.Context(), f, []converge.Target{target}, converge.Options{Timeout: 10 * time.Second})
	if !errors.Is(err, boom) {
		t.Fatalf("want the engine error, got %v", err)
	}
}

func TestWaitRejudgesConvergedServices(t *testing.T) {
	f := fake.New(fake.Options{Images: []string{"app:1"}})
	f.NeverHealthy("s_slow")
	early := fakeCreate(t, f, probeSpec("s", "early", "app:1"))
	slow := fakeCreate(t, f, probeSpec("s", "slow", "app:1", withHealthcheck(time.Hour, 3)))
	crashed := false
	_, err := converge.Wait(t.Context(), f, []converge.Target{early, slow}, converge.Options{
		Timeout: 10 * time.Second, Stable: 50 * time.Millisecond, Poll: 10 * time.Millisecond,
		Progress: func(p converge.Progress) {
			if p.Service == early.Name && p.Phase == converge.PhaseConverged && !crashed {
				crashed = true
				f.CrashService(early.Name, 1)
			}
		},
	})
	// The early service converged, then broke while the slow one kept the wait going: the
	// wait must fail on it rather than remember it as converged.
	var ce *converge.Error
	if !crashed || !errors.As(err, &ce) || ce.Reason != converge.TaskFailed || ce.Service != early.Name {
		t.Fatalf("want TaskFailed for %s after it converged, got %v", early.Name, err)
	}
}

func probeSpec(stack, name, image string, opts ...specOption) swarm.ServiceSpec {
	replicas := uint64(1)
	delay := testRestartDelay
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: stack + "_" + name, Labels: map[string]string{swarmtest.NamespaceLabel: stack}},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: image, Labels: map[string]string{swarmtest.NamespaceLabel: stack}},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, Delay: &delay},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
		UpdateConfig: &swarm.UpdateConfig{
			Order: swarm.UpdateOrderStartFirst, Monitor: testMonitor, FailureAction: swarm.UpdateFailureActionPause,
		},
	}
	for _, o := range opts {
		o(&spec)
	}
	return spec
}

type specOption func(*swarm.ServiceSpec)

func withReplicas(n uint64) specOption {
	return func(s *swarm.ServiceSpec) { s.Mode.Replicated.Replicas = &n }
}

func withFailureAction(action string) specOption {
	return func(s *swarm.ServiceSpec) { s.UpdateConfig.FailureAction = action }
}

func withHealthcheck(interval time.Duration, retries int) specOption {
	return func(s *swarm.ServiceSpec) {
		s.TaskTemplate.ContainerSpec.Healthcheck = &container.HealthConfig{
			Test: []string{"CMD", "/probe", "-health"}, Interval: interval, Timeout: 3 * time.Second, Retries: retries,
		}
	}
}

// fast settings keep integration tests in seconds: start-first updates, a 1 s monitor and
// short restart delays, unless a test is about them.
const (
	testMonitor      = time.Second
	testRestartDelay = 200 * time.Millisecond
)
