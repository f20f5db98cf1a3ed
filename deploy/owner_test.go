package deploy_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/fake"
)

var (
	runOwner   = deploy.Owner{Labels: map[string]string{"swarmrun.dev/managed-by": "swarmrun", "swarmrun.dev/testrun": "run1"}}
	runLabels  = map[string]string{"swarmrun.dev/managed-by": "swarmrun", "swarmrun.dev/testrun": "run1", "swarmrun.dev/role": "base"}
	headLabels = map[string]string{"swarmrun.dev/managed-by": "swarmrun", "swarmrun.dev/testrun": "run1", "swarmrun.dev/role": "head"}
)

func TestOwnerOwns(t *testing.T) {
	for _, tt := range []struct {
		labels map[string]string
		owns   bool
	}{
		{runLabels, true},
		{map[string]string{"swarmrun.dev/managed-by": "swarmrun", "swarmrun.dev/testrun": "run2"}, false},
		{map[string]string{"swarmrun.dev/testrun": "run1"}, false},
		{nil, false},
	} {
		if got := runOwner.Owns(tt.labels); got != tt.owns {
			t.Errorf("Owns(%v) = %v, want %v", tt.labels, got, tt.owns)
		}
		if !(deploy.Owner{}).Owns(tt.labels) {
			t.Errorf("the zero Owner does not own %v", tt.labels)
		}
	}
}

// notOwned asserts err is a *NotOwnedError naming exactly want ("kind name: label").
func notOwned(t *testing.T, err error, want ...string) {
	t.Helper()
	var e *deploy.NotOwnedError
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want a *NotOwnedError", err)
	}
	var got []string
	for _, o := range e.Objects {
		got = append(got, o.Kind+" "+o.Name+": "+o.Label)
	}
	if !slices.Equal(got, want) {
		t.Errorf("not owned %v, want %v", got, want)
	}
}

// planted is the fake swarm with stack s applied by run1's base, plus a service of the stack
// that someone else planted (namespace label only).
func planted(t *testing.T) (*fake.Fake, *deploy.Deployer) {
	t.Helper()
	f := newFake(t)
	d := deploy.New(deploy.Options{Engine: f})
	if _, err := d.Apply(testContext(t), renderStack(t, "s", "testdata/simple", nil), deploy.ApplyOptions{Labels: runLabels, Owner: runOwner}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	createService(t, f, "s_planted", map[string]string{deploy.LabelNamespace: "s"})
	f.AddVolume("s_data", map[string]string{deploy.LabelNamespace: "s"})
	f.ResetCalls()
	return f, d
}

func TestApplyRefusesAStackItDoesNotOwn(t *testing.T) {
	ctx := testContext(t)
	t.Run("a service of another owner", func(t *testing.T) {
		f := newFake(t)
		d := deploy.New(deploy.Options{Engine: f})
		other := map[string]string{"swarmrun.dev/managed-by": "swarmrun", "swarmrun.dev/testrun": "run2"}
		if _, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", nil), deploy.ApplyOptions{Labels: other}); err != nil {
			t.Fatalf("apply: %v", err)
		}
		f.ResetCalls()
		_, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", map[string]string{"IMAGE": "swarmrun-probe:2"}), deploy.ApplyOptions{Labels: headLabels, Owner: runOwner})
		notOwned(t, err, "network s_net: swarmrun.dev/testrun", "secret s_token: swarmrun.dev/testrun",
			"config s_conf: swarmrun.dev/testrun", "service s_web: swarmrun.dev/testrun", "service s_worker: swarmrun.dev/testrun")
		if !strings.Contains(err.Error(), "service s_web has label swarmrun.dev/testrun=run2, not run1") {
			t.Errorf("error = %v", err)
		}
		if calls := mutationCalls(f); len(calls) != 0 {
			t.Errorf("a refused apply made calls %v", calls)
		}
	})
	t.Run("a service planted without labels", func(t *testing.T) {
		f := newFake(t)
		d := deploy.New(deploy.Options{Engine: f})
		createService(t, f, "s_web", map[string]string{deploy.LabelNamespace: "s"})
		f.ResetCalls()
		_, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", nil), deploy.ApplyOptions{Labels: headLabels, Owner: runOwner})
		notOwned(t, err, "service s_web: swarmrun.dev/managed-by")
		if !strings.Contains(err.Error(), "service s_web lacks label swarmrun.dev/managed-by=swarmrun") {
			t.Errorf("error = %v", err)
		}
		if calls := mutationCalls(f); len(calls) != 0 {
			t.Errorf("a refused apply made calls %v", calls)
		}
	})
	t.Run("its own stack, deployed by another phase", func(t *testing.T) {
		_, d := planted(t)
		cs, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", map[string]string{"IMAGE": "swarmrun-probe:2"}), deploy.ApplyOptions{Labels: headLabels, Owner: runOwner})
		if err != nil {
			t.Fatalf("apply head: %v", err)
		}
		if _, updated, _ := cs.Count(); updated != 2 {
			t.Errorf("updated %d services, want 2", updated)
		}
	})
	t.Run("without an owner, as docker", func(t *testing.T) {
		f := newFake(t)
		d := deploy.New(deploy.Options{Engine: f})
		createService(t, f, "s_web", map[string]string{deploy.LabelNamespace: "s"})
		if _, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", nil), deploy.ApplyOptions{}); err != nil {
			t.Errorf("apply without an owner: %v", err)
		}
	})
}

func TestPruneLeavesWhatItDoesNotOwn(t *testing.T) {
	f, d := planted(t)
	ctx := testContext(t)
	head := renderStack(t, "s", "testdata/simple", nil, "dropped.yml")
	removed, err := d.PruneOwned(ctx, "s", head, nil, runOwner)
	if !slices.Equal(removed, []string{"s_worker"}) {
		t.Errorf("pruned %v, want s_worker", removed)
	}
	notOwned(t, err, "service s_planted: swarmrun.dev/managed-by")
	if names := serviceNames(t, f); !slices.Equal(names, []string{"s_planted", "s_web"}) {
		t.Errorf("services left %v", names)
	}

	// A forged stack name: the owner owns nothing there, so nothing goes.
	f.ResetCalls()
	other := deploy.Owner{Labels: map[string]string{"swarmrun.dev/managed-by": "swarmrun", "swarmrun.dev/testrun": "victim-of"}}
	removed, err = d.PruneOwned(ctx, "s", renderStack(t, "s", "testdata/simple", nil, "dropped.yml"), nil, other)
	if len(removed) != 0 || f.Calls("ServiceRemove") != 0 {
		t.Errorf("pruned %v under another owner", removed)
	}
	notOwned(t, err, "service s_planted: swarmrun.dev/managed-by")
}

func TestRemoveLeavesWhatItDoesNotOwn(t *testing.T) {
	ctx := testContext(t)
	t.Run("a planted service", func(t *testing.T) {
		f, d := planted(t)
		r, err := d.Remove(ctx, "s", deploy.RemoveOptions{Owner: runOwner, Volumes: true})
		notOwned(t, err, "service s_planted: swarmrun.dev/managed-by")
		if !slices.Equal(r.Services, []string{"s_web", "s_worker"}) || len(r.Secrets) != 1 || len(r.Configs) != 1 || len(r.Networks) != 1 {
			t.Errorf("removed %+v, want the run's services, secret, config and network", r)
		}
		if len(r.Volumes) != 0 || f.Calls("VolumeRemove") != 0 {
			t.Errorf("removed volumes %v of a stack that is not wholly the owner's", r.Volumes)
		}
		if vols, err := f.VolumeList(ctx, volume.ListOptions{}); err != nil || len(vols.Volumes) != 1 {
			t.Errorf("volumes left %+v, %v; want s_data kept", vols.Volumes, err)
		}
		if names := serviceNames(t, f); !slices.Equal(names, []string{"s_planted"}) {
			t.Errorf("services left %v", names)
		}
	})
	t.Run("another owner's stack", func(t *testing.T) {
		f, d := planted(t)
		other := deploy.Owner{Labels: map[string]string{"swarmrun.dev/managed-by": "swarmrun", "swarmrun.dev/testrun": "run2"}}
		r, err := d.Remove(ctx, "s", deploy.RemoveOptions{Owner: other, Volumes: true})
		var e *deploy.NotOwnedError
		if !errors.As(err, &e) || len(e.Objects) != 6 {
			t.Errorf("error %v, want the 3 services, network, secret and config named", err)
		}
		if calls := mutationCalls(f); len(calls) != 0 || len(r.Services) != 0 {
			t.Errorf("removing another owner's stack made calls %v", calls)
		}
	})
	t.Run("the owner's whole stack", func(t *testing.T) {
		f := newFake(t)
		d := deploy.New(deploy.Options{Engine: f})
		if _, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", nil), deploy.ApplyOptions{Labels: runLabels}); err != nil {
			t.Fatal(err)
		}
		f.AddVolume("s_data", map[string]string{deploy.LabelNamespace: "s"})
		r, err := d.Remove(ctx, "s", deploy.RemoveOptions{Owner: runOwner, Volumes: true})
		if err != nil || len(r.Services) != 2 || !slices.Equal(r.Volumes, []string{"s_data"}) {
			t.Errorf("remove: %+v, %v; want both services and the volume", r, err)
		}
	})
}

func serviceNames(t *testing.T, f *fake.Fake) []string {
	t.Helper()
	svcs, err := f.ServiceList(t.Context(), swarm.ServiceListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range svcs {
		names = append(names, s.Spec.Name)
	}
	slices.Sort(names)
	return names
}
