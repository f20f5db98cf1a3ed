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

// A stack of the run's own name that someone else made (a service the head lacks, without
// swarmrun's labels) is never updated or pruned: the run's apply refuses it, and the run
// ends StackNotOwned with the planted services as they were.
func TestRunRefusesAStackItDoesNotOwn(t *testing.T) {
	e := newFakeEnv(t)
	url, _ := standardRepo(t, "main")
	e.apply(newRecipe("demo", url))
	tr := newTestRun("demo-planted", "demo", "")
	tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall}
	e.apply(tr)
	stored := e.get("demo-planted")
	name := StackName(stored)
	ns := map[string]string{deploy.LabelNamespace: name}
	for _, svc := range []string{name + "_app", name + "_worker"} {
		spec := swarm.ServiceSpec{Annotations: swarm.Annotations{Name: svc, Labels: ns},
			TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: probe1, Labels: ns}}}
		if _, err := e.engine.ServiceCreate(t.Context(), spec, swarm.ServiceCreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	got := e.reconcileDone(e.rec, "demo-planted", steps)
	if c := condition(got, v1alpha1.ConditionSucceeded); c.Status != v1alpha1.ConditionFalse || c.Reason != v1alpha1.ReasonStackNotOwned {
		t.Fatalf("Succeeded = %s %s: %s; want False StackNotOwned", c.Status, c.Reason, c.Message)
	}
	if n := e.engine.Calls("ServiceUpdate"); n != 0 {
		t.Errorf("ServiceUpdate called %d times on a stack swarmrun does not own", n)
	}
	state, err := e.deployer.Observe(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	if len(state.Services) != 2 {
		t.Errorf("planted services %+v, want both left alone", state.Services)
	}
	for _, s := range state.Services {
		if s.Image != probe1 || s.Labels[v1alpha1.LabelManagedBy] != "" {
			t.Errorf("planted service %s changed: image %s, labels %v", s.Name, s.Image, s.Labels)
		}
	}
}
