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

// A TestRun whose status names a stack that someone else made leaves that stack (and its
// volumes) alone on deletion, says so in a Warning event, and lets the object go.
func TestTeardownLeavesStackNotOwned(t *testing.T) {
	e := newFakeEnv(t)
	url, _ := standardRepo(t, "main")
	e.apply(newRecipe("demo", url))
	tr := newTestRun("demo-own", "demo", "")
	tr.Spec.Teardown = v1alpha1.TeardownNever
	e.apply(tr)
	got := e.reconcileDone(e.rec, "demo-own", 3)

	const foreign = "someone-elses"
	ns := map[string]string{deploy.LabelNamespace: foreign}
	if _, err := e.engine.NetworkCreate(t.Context(), foreign+"_default", network.CreateOptions{Driver: "overlay", Labels: ns}); err != nil {
		t.Fatal(err)
	}
	spec := swarm.ServiceSpec{Annotations: swarm.Annotations{Name: foreign + "_app", Labels: ns},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: probe1, Labels: ns}}}
	if _, err := e.engine.ServiceCreate(t.Context(), spec, swarm.ServiceCreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got.Status.Stack = foreign
	if err := e.store.UpdateStatus(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	// The teardown of a finished run, then the finalizer of its deletion.
	got.Spec.Teardown = v1alpha1.TeardownAlways
	if err := e.rec.teardown(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	warned := e.events(v1alpha1.KindTestRun, "demo-own", "NotOwned")
	if len(warned) != 1 || warned[0].Type != v1alpha1.EventWarning || !strings.Contains(warned[0].Message, "teardown counted as done") {
		t.Errorf("events = %+v, want one NotOwned warning", warned)
	}
	if _, err := e.store.Delete(t.Context(), v1alpha1.KindTestRun, "demo-own"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rec.Reconcile(t.Context(), controller.Request{Kind: v1alpha1.KindTestRun, Name: "demo-own"}); err != nil {
		t.Fatal(err)
	}
	state, err := e.rec.o.Deployer.Observe(t.Context(), foreign)
	if err != nil {
		t.Fatal(err)
	}
	if len(state.Services) != 1 || len(state.Networks) != 1 {
		t.Errorf("someone else's stack was touched: %+v", state)
	}
	if e.get("demo-own") != nil {
		t.Errorf("TestRun held by a stack that is not its own")
	}
}
