package fake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/fake"
)

func TestFailNextFailsOneCallEach(t *testing.T) {
	f, _ := newClocked(t)
	boom, bang := errors.New("boom"), errors.New("bang")
	f.FailNext("ServiceCreate", boom)
	f.FailNext("ServiceCreate", bang)
	for _, want := range []error{boom, bang, nil} {
		_, err := f.ServiceCreate(t.Context(), svcSpec("web", probe1), swarm.ServiceCreateOptions{})
		if !errors.Is(err, want) {
			t.Errorf("got %v, want %v", err, want)
		}
	}
	if n := f.Calls("ServiceCreate"); n != 3 {
		t.Errorf("calls: %d", n)
	}
	if l, _ := f.ServiceList(t.Context(), swarm.ServiceListOptions{}); len(l) != 1 {
		t.Errorf("failed calls created services: %d", len(l))
	}
}

// TestHookSeesArgumentsAndMayCallTheFake: a hook runs outside the fake's lock, so it can
// change the swarm under the caller (a concurrent writer), and its error replaces the call.
func TestHookSeesArgumentsAndMayCallTheFake(t *testing.T) {
	f, _ := newClocked(t)
	id := mustCreate(t, f, svcSpec("web", probe1))
	f.SetHook("ServiceUpdate", func(ctx context.Context, c fake.Call) error {
		if c.Method != "ServiceUpdate" || c.Args[0] != id {
			t.Errorf("hook call: %+v", c)
		}
		// Someone else updates first: the caller's version is now stale.
		s, _, err := f.ServiceInspectWithRaw(ctx, id, swarm.ServiceInspectOptions{})
		if err != nil {
			return err
		}
		s.Spec.Labels["other"] = "writer"
		f.SetHook("ServiceUpdate", nil)
		_, err = f.ServiceUpdate(ctx, id, s.Version, s.Spec, swarm.ServiceUpdateOptions{})
		return err
	})
	s := mustInspect(t, f, id)
	_, err := f.ServiceUpdate(t.Context(), id, s.Version, s.Spec, swarm.ServiceUpdateOptions{})
	if err == nil || err.Error() != "Error response from daemon: rpc error: code = Unknown desc = update out of sequence" {
		t.Errorf("update after a concurrent write: %v", err)
	}
	denied := errors.New("denied")
	f.SetHook("*", func(context.Context, fake.Call) error { return denied })
	if _, err := f.Info(t.Context()); !errors.Is(err, denied) {
		t.Errorf("catch-all hook: %v", err)
	}
	f.SetHook("*", nil)
	f.ResetCalls()
	if n := f.Calls("ServiceUpdate"); n != 0 {
		t.Errorf("calls after reset: %d", n)
	}
}

func TestCancelledContextFailsTheCall(t *testing.T) {
	f, _ := newClocked(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.ServiceCreate(ctx, svcSpec("web", probe1), swarm.ServiceCreateOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("create with a cancelled context: %v", err)
	}
}

// TestResultsAreCopies: what a caller gets, and what it passed in, never aliases the store.
func TestResultsAreCopies(t *testing.T) {
	f, _ := newClocked(t)
	spec := svcSpec("web", probe1)
	id := mustCreate(t, f, spec)
	spec.Labels["mutated"] = "input"
	s := mustInspect(t, f, id)
	s.Spec.Labels["mutated"] = "output"
	s.Spec.TaskTemplate.ContainerSpec.Image = "other"
	again := mustInspect(t, f, id)
	if _, ok := again.Spec.Labels["mutated"]; ok || again.Spec.TaskTemplate.ContainerSpec.Image != probe1 {
		t.Errorf("store changed through a caller's copy: %+v", again.Spec)
	}
}
