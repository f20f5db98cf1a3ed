package reconcile

import (
	"strings"
	"testing"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy"
)

// A TestRun leaves alone, on deletion, a stack of its own name that someone else made (and
// its volumes), says so in a Warning event, and lets the object go; a stack its status was
// made to name is never looked at: the run's stack is derived from the run alone.
func TestTeardownLeavesStackNotOwned(t *testing.T) {
	e := newFakeEnv(t)
	url, _ := standardRepo(t, "main")
	e.apply(newRecipe("demo", url))
	tr := newTestRun("demo-own", "demo", "")
	e.apply(tr)
	got := e.reconcileDone(e.rec, "demo-own", steps)

	plant := func(name string) {
		t.Helper()
		ns := map[string]string{deploy.LabelNamespace: name}
		if _, err := e.engine.NetworkCreate(t.Context(), name+"_default", network.CreateOptions{Driver: "overlay", Labels: ns}); err != nil {
			t.Fatal(err)
		}
		spec := swarm.ServiceSpec{Annotations: swarm.Annotations{Name: name + "_app", Labels: ns},
			TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: probe1, Labels: ns}}}
		if _, err := e.engine.ServiceCreate(t.Context(), spec, swarm.ServiceCreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	const foreign = "someone-elses"
	own := StackName(got)
	plant(foreign)
	plant(own)
	got.Status.Stack = foreign
	if err := e.store.UpdateStatus(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	// The teardown of the finished run (its policy is Always), then its deletion's finalizer.
	req := controller.Request{Kind: v1alpha1.KindTestRun, Name: "demo-own"}
	if _, err := e.rec.Reconcile(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	warned := e.events(v1alpha1.KindTestRun, "demo-own", "NotOwned")
	if len(warned) != 1 || warned[0].Type != v1alpha1.EventWarning || !strings.Contains(warned[0].Message, own) {
		t.Errorf("events = %+v, want one NotOwned warning about %s", warned, own)
	}
	if _, err := e.store.Delete(t.Context(), v1alpha1.KindTestRun, "demo-own"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rec.Reconcile(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{foreign, own} {
		state, err := e.deployer.Observe(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if len(state.Services) != 1 || len(state.Networks) != 1 {
			t.Errorf("stack %s, not the run's, was touched: %+v", name, state)
		}
	}
	if e.get("demo-own") != nil {
		t.Errorf("TestRun held by a stack that is not its own")
	}
}
