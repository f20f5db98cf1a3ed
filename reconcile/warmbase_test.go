package reconcile

import (
	"archive/tar"
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/warm"
)

// warmRecipe stores a warm recipe whose canonical is 0.1.0+1 and whose warm stack runs it,
// with data in the warm stack's volume.
func (e *fakeEnv) warmRecipe(name string, ready bool) []string {
	e.t.Helper()
	url, commits := standardRepo(e.t, "main")
	rc := newRecipe(name, url)
	rc.Spec.Warm = true
	e.apply(rc)
	if err := e.store.Get(e.t.Context(), name, rc); err != nil {
		e.t.Fatal(err)
	}
	rc.Status.Canonical = &v1alpha1.Canonical{Version: "0.1.0+1", Commit: commits[0], Status: warm.CanonicalStatus, Run: "the-cold-run"}
	rc.Status.WarmStack = &v1alpha1.WarmStack{Name: warm.StackName(name), Version: "0.1.0+1", Commit: commits[0], Ready: ready}
	if err := e.store.UpdateStatus(e.t.Context(), rc); err != nil {
		e.t.Fatal(err)
	}
	e.writeVolume(warm.StackName(name)+"_data", "k", "warm data")
	return commits
}

// volumeContainer creates a container of the fake engine that mounts vol at /v, and
// registers its removal.
func (e *fakeEnv) volumeContainer(vol, name string) string {
	e.t.Helper()
	resp, err := e.engine.ContainerCreate(e.t.Context(), &container.Config{Image: probe1},
		&container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: "/v"}}}, nil, nil, name+"-"+vol)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = e.engine.ContainerRemove(context.Background(), resp.ID, container.RemoveOptions{}) })
	return resp.ID
}

// writeVolume puts a file into a volume of the fake engine, through a container of its own.
func (e *fakeEnv) writeVolume(vol, name, content string) {
	e.t.Helper()
	ctx := e.t.Context()
	id := e.volumeContainer(vol, "writer")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(content))})
	_, _ = tw.Write([]byte(content))
	_ = tw.Close()
	if err := e.engine.CopyToContainer(ctx, id, "/v", &buf, container.CopyToContainerOptions{}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.engine.ContainerRemove(ctx, id, container.RemoveOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

// readVolume reads a file of a volume of the fake engine.
func (e *fakeEnv) readVolume(vol, name string) string {
	e.t.Helper()
	id := e.volumeContainer(vol, "reader")
	defer e.engine.ContainerRemove(e.t.Context(), id, container.RemoveOptions{})
	rc, _, err := e.engine.CopyFromContainer(e.t.Context(), id, "/v/"+name)
	if err != nil {
		return ""
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	if _, err := tr.Next(); err != nil {
		return ""
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(tr)
	return b.String()
}

// A warm run copies the warm stack's volumes into its stack instead of deploying the base,
// deploys the head onto the copy, passes, says so in its base record, and never promotes.
func TestWarmRun(t *testing.T) {
	e := newFakeEnv(t)
	commits := e.warmRecipe("wr", true)
	tr := newTestRun("wr-run", "wr", "0.2.0+2")
	tr.Spec.Base = &v1alpha1.BaseSource{From: v1alpha1.BaseFromWarm}
	tr.Spec.Teardown = v1alpha1.TeardownNever
	e.apply(tr)
	got := e.reconcileDone(e.rec, "wr-run", steps)
	requireGreen(t, e, got)

	b := got.Status.Base
	if b.Kind != v1alpha1.BaseWarm || b.Version != "0.1.0+1" || b.Commit != commits[0] || !strings.HasPrefix(b.Reason, "warm at 0.1.0+1") {
		t.Errorf("base = %+v, want warm at 0.1.0+1", b)
	}
	stack := got.Status.Stack
	want := []v1alpha1.VolumeCopy{{From: "warm-wr_data", To: stack + "_data"}}
	if b.Warm == nil || b.Warm.Stack != "warm-wr" || len(b.Warm.Volumes) != 1 || b.Warm.Volumes[0].From != want[0].From || b.Warm.Volumes[0].To != want[0].To {
		t.Errorf("warm record = %+v, want a copy %+v", b.Warm, want)
	}
	if c := condition(got, v1alpha1.ConditionBaseReady); c.Reason != v1alpha1.ReasonWarmCopied || !strings.Contains(c.Message, "warm at 0.1.0+1: 1 volumes copied from warm-wr") {
		t.Errorf("BaseReady = %s: %s", c.Reason, c.Message)
	}
	if len(got.Status.Deploys) != 1 || got.Status.Deploys[0].Role != roleHead {
		t.Errorf("deploys %+v, want the head's alone", got.Status.Deploys)
	}
	if v := e.readVolume(stack+"_data", "k"); v != "warm data" {
		t.Errorf("the run's volume holds %q, want the warm stack's data", v)
	}
	if v := e.readVolume("warm-wr_data", "k"); v != "warm data" {
		t.Errorf("the warm stack's volume holds %q after the copy", v)
	}
	install := got.Status.Tiers["install"]
	if install.Result != v1alpha1.ResultPassed || !slices.Contains(checkNames(install.Checks), "warm: warm-wr ready") {
		t.Errorf("install = %+v", install)
	}
	if up := got.Status.Tiers["upgrade"]; up.Result != v1alpha1.ResultPassed || !hasPassed(up.Checks, "verify: one rollout per phase") {
		t.Errorf("upgrade = %+v", up)
	}
	if c := condition(got, v1alpha1.ConditionPromoted); c.Status != v1alpha1.ConditionFalse || !strings.Contains(c.Message, "was not cold") {
		t.Errorf("Promoted = %s %s: %s", c.Status, c.Reason, c.Message)
	}
}

// A warm run of a recipe without a canonical fails at once: it never falls back to a cold
// base.
func TestWarmRunUnavailable(t *testing.T) {
	e := newFakeEnv(t)
	url, _ := standardRepo(t, "main")
	rc := newRecipe("cold", url)
	rc.Spec.Warm = true
	e.apply(rc)
	tr := newTestRun("cold-run", "cold", "0.2.0+2")
	tr.Spec.Base = &v1alpha1.BaseSource{From: v1alpha1.BaseFromWarm}
	e.apply(tr)
	got := e.reconcileDone(e.rec, "cold-run", steps)
	c := condition(got, v1alpha1.ConditionSucceeded)
	if c.Reason != v1alpha1.ReasonWarmUnavailable || !strings.Contains(c.Message, "has no canonical version yet") {
		t.Errorf("Succeeded = %s %s: %s", c.Status, c.Reason, c.Message)
	}
	if len(got.Status.Deploys) != 0 {
		t.Errorf("deploys %+v", got.Status.Deploys)
	}
}

// A warm run waits while the warm stack is brought to the canonical, and goes on once it is.
func TestWarmRunWaitsForTheWarmStack(t *testing.T) {
	e := newFakeEnv(t)
	e.warmRecipe("wait", false)
	tr := newTestRun("wait-run", "wait", "0.2.0+2")
	tr.Spec.Base = &v1alpha1.BaseSource{From: v1alpha1.BaseFromWarm}
	e.apply(tr)
	for range 20 {
		e.reconcileStep("wait-run")
	}
	cur := e.get("wait-run")
	if conditionTrue(v1alpha1.ConditionBaseReady)(cur) || finished(cur) {
		t.Fatalf("went on before the warm stack was ready: %s", e.describe("wait-run"))
	}
	if c := condition(cur, v1alpha1.ConditionBaseReady); c.Status != v1alpha1.ConditionUnknown || c.Message != "waiting for the warm stack warm-wait to run 0.1.0+1" {
		t.Errorf("BaseReady while waiting = %s %s: %s", c.Status, c.Reason, c.Message)
	}
	rc := &v1alpha1.Recipe{}
	if err := e.store.Get(t.Context(), "wait", rc); err != nil {
		t.Fatal(err)
	}
	rc.Status.WarmStack.Ready = true
	if err := e.store.UpdateStatus(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
	requireGreen(t, e, e.reconcileDone(e.rec, "wait-run", steps))
}

// A copy cut short (the process killed in the middle) leaves its helper container holding
// the run's volume; deleting the run then removes the helper, and the volume with the stack.
func TestTeardownRemovesALeftoverCopyHelper(t *testing.T) {
	e := newFakeEnv(t)
	e.warmRecipe("left", true)
	tr := newTestRun("left-run", "left", "0.2.0+2")
	tr.Spec.Base = &v1alpha1.BaseSource{From: v1alpha1.BaseFromWarm}
	e.apply(tr)
	e.reconcileStep("left-run") // the finalizer
	stack := StackName(e.get("left-run"))
	if _, err := e.engine.ContainerCreate(t.Context(), &container.Config{Image: probe1}, &container.HostConfig{Mounts: []mount.Mount{{
		Type: mount.TypeVolume, Source: stack + "_data", Target: "/swarmrun-copy/to/0",
		VolumeOptions: &mount.VolumeOptions{Labels: map[string]string{"com.docker.stack.namespace": stack,
			v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelTestRun: "left-run"}}}}}, nil, nil, stack+"_swarmrun-copy"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Delete(t.Context(), v1alpha1.KindTestRun, "left-run"); err != nil {
		t.Fatal(err)
	}
	for range steps {
		if e.get("left-run") == nil {
			break
		}
		e.reconcileStep("left-run")
	}
	if e.get("left-run") != nil {
		t.Fatalf("the run was not let go: %s", e.describe("left-run"))
	}
	if state, _ := e.deployer.Observe(t.Context(), stack); state.Exists() {
		t.Errorf("stack left after the teardown: %+v", state)
	}
	all, _ := e.engine.ContainerList(t.Context(), container.ListOptions{All: true})
	for _, c := range all {
		if c.State == container.StateCreated {
			t.Errorf("container left: %+v", c.Names)
		}
	}
}
