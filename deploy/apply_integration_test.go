//go:build integration

package deploy_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/internal/testkit"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

func TestApplySwarmReapplyChangesNothing(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "reapply")
	ctx := testContext(t)
	d := realDeployer(c)

	cs, err := d.Apply(ctx, renderStack(t, stack, "testdata/simple", nil), deploy.ApplyOptions{Labels: ownership})
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	assertActions(t, actions(cs), simpleActions(stack, deploy.Created))
	for _, img := range cs.Images {
		if !img.Local || img.ID == "" {
			t.Errorf("image %s: local %v, id %q, want a local image with its ID", img.Image, img.Local, img.ID)
		}
	}
	waitRunning(t, d, stack, 30*time.Second)
	before := stackServices(t, c, stack)
	tasks := runningTaskIDs(t, c, stack)
	for name, s := range before {
		if s.Spec.Labels["swarmrun.dev/managed-by"] != "swarmrun" || s.Spec.Labels[deploy.LabelSpecDigest] == "" {
			t.Errorf("service %s labels %v: want the ownership and spec-digest labels", name, s.Spec.Labels)
		}
	}

	cs, err = d.Apply(ctx, renderStack(t, stack, "testdata/simple", nil), deploy.ApplyOptions{Labels: ownership})
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	assertActions(t, actions(cs), simpleActions(stack, deploy.Unchanged))
	after := stackServices(t, c, stack)
	for _, ch := range cs.Services {
		if ch.PrevVersion != before[ch.Name].Version.Index {
			t.Errorf("service %s: PrevVersion %d, want the live version %d", ch.Name, ch.PrevVersion, before[ch.Name].Version.Index)
		}
	}
	for name, s := range after {
		if s.Version.Index != before[name].Version.Index {
			t.Errorf("service %s: version %d after re-apply, was %d: an update call was made", name, s.Version.Index, before[name].Version.Index)
		}
	}
	if now := runningTaskIDs(t, c, stack); !sameKeys(now, tasks) {
		t.Errorf("running tasks changed on re-apply: before %v, after %v", tasks, now)
	}
}

func TestApplySwarmUpdatesChangedServiceOnly(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "update")
	ctx := testContext(t)
	d := realDeployer(c)

	if _, err := d.Apply(ctx, renderStack(t, stack, "testdata/simple", nil), deploy.ApplyOptions{}); err != nil {
		t.Fatalf("apply v1: %v", err)
	}
	// The engine bumps a new service's version itself (endpoint allocation): read it once
	// the stack runs.
	waitRunning(t, d, stack, 30*time.Second)
	before := stackServices(t, c, stack)
	cs, err := d.Apply(ctx, renderStack(t, stack, "testdata/simple", map[string]string{"IMAGE": swarmtest.ProbeV2}), deploy.ApplyOptions{})
	if err != nil {
		t.Fatalf("apply v2: %v", err)
	}
	want := simpleActions(stack, deploy.Unchanged)
	want["service/"+stack+"_web"] = deploy.Updated
	assertActions(t, actions(cs), want)
	web := stack + "_web"
	for _, ch := range cs.Services {
		if ch.Name == web && ch.PrevVersion != before[web].Version.Index {
			t.Errorf("updated service PrevVersion %d, want the version observed before, %d", ch.PrevVersion, before[web].Version.Index)
		}
	}
	after := stackServices(t, c, stack)
	if img := after[web].Spec.TaskTemplate.ContainerSpec.Image; img != swarmtest.ProbeV2 {
		t.Errorf("web runs %s, want %s", img, swarmtest.ProbeV2)
	}
	if got := after[web].Spec.Labels[deploy.LabelImage]; got != swarmtest.ProbeV2 {
		t.Errorf("web's %s label is %q, want %s", deploy.LabelImage, got, swarmtest.ProbeV2)
	}

	cs, err = d.Apply(ctx, renderStack(t, stack, "testdata/simple", map[string]string{"IMAGE": swarmtest.ProbeV2}), deploy.ApplyOptions{ForceUpdate: true})
	if err != nil {
		t.Fatalf("apply with ForceUpdate: %v", err)
	}
	_, updated, _ := cs.Count()
	if updated != 2 {
		t.Errorf("ForceUpdate updated %d services, want 2", updated)
	}
	forced := stackServices(t, c, stack)
	for name, s := range forced {
		if got, was := s.Spec.TaskTemplate.ForceUpdate, after[name].Spec.TaskTemplate.ForceUpdate; got != was+1 {
			t.Errorf("service %s ForceUpdate %d, want %d", name, got, was+1)
		}
	}
}

func TestApplySwarmRestoresScaledService(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "scaled")
	ctx := testContext(t)
	d := realDeployer(c)
	st := renderStack(t, stack, "testdata/simple", nil)
	if _, err := d.Apply(ctx, st, deploy.ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	// The engine itself bumps a new service's version once (endpoint allocation): retry the
	// scale on a fresh read until it is not out of sequence.
	three := uint64(3)
	testkit.Eventually(t, 5*time.Second, 100*time.Millisecond, func() bool {
		worker := stackServices(t, c, stack)[stack+"_worker"]
		spec := worker.Spec
		spec.Mode.Replicated.Replicas = &three
		_, err := c.ServiceUpdate(ctx, worker.ID, worker.Version, spec, swarm.ServiceUpdateOptions{})
		return err == nil
	}, "could not scale the worker behind swarmrun's back")
	cs, err := d.Apply(ctx, st, deploy.ApplyOptions{})
	if err != nil {
		t.Fatalf("re-apply: %v", err)
	}
	want := simpleActions(stack, deploy.Unchanged)
	want["service/"+stack+"_worker"] = deploy.Updated
	assertActions(t, actions(cs), want)
	if r := stackServices(t, c, stack)[stack+"_worker"].Spec.Mode.Replicated.Replicas; r == nil || *r != 1 {
		t.Errorf("worker replicas %v after re-apply, want 1", r)
	}
}

func TestApplySwarmMissingImage(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "noimage")
	ctx := testContext(t)
	d := realDeployer(c)
	const missing = "swarmrun-probe:does-not-exist"

	start := time.Now()
	_, err := d.Apply(ctx, renderStack(t, stack, "testdata/simple", map[string]string{"IMAGE": missing}), deploy.ApplyOptions{})
	elapsed := time.Since(start)
	var ie *deploy.ImageError
	if !errors.As(err, &ie) {
		t.Fatalf("apply: %v, want an *ImageError", err)
	}
	t.Logf("image error after %s: %v", elapsed, err)
	if elapsed > 10*time.Second {
		t.Errorf("image error after %s, want within 10s", elapsed)
	}
	if len(ie.Images) != 1 || ie.Images[0].Image != missing || ie.Images[0].Reason == "" {
		t.Errorf("image problems %+v, want exactly %s with the engine's answer", ie.Images, missing)
	}
	if !strings.Contains(err.Error(), missing) {
		t.Errorf("error %q does not name %s", err, missing)
	}
	state, err := d.Observe(ctx, stack)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	if state.Exists() {
		t.Errorf("a failed image check applied something: %+v", state)
	}
}

func TestApplySwarmChangedSecretIsImmutable(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "immut")
	ctx := testContext(t)
	d := realDeployer(c)
	secretFile := filepath.Join(t.TempDir(), "token")
	writeFile(t, secretFile, "first content")
	env := map[string]string{"SECRET_FILE": secretFile}

	if _, err := d.Apply(ctx, renderStack(t, stack, "testdata/simple", env), deploy.ApplyOptions{}); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	before := stackServices(t, c, stack)

	// Same secret name, new content, plus a new network, a new service and a new image:
	// none of them may be applied.
	writeFile(t, secretFile, "second content")
	env["IMAGE"] = swarmtest.ProbeV2
	overlay := []byte(`
version: "3.8"
services:
  extra:
    image: swarmrun-probe:1
    networks: [extra]
networks:
  extra: {}
`)
	st, err := renderWithOverlay(t, stack, "testdata/simple", env, overlay)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	_, err = d.Apply(ctx, st, deploy.ApplyOptions{})
	var ie *deploy.ImmutableError
	if !errors.As(err, &ie) {
		t.Fatalf("apply: %v, want an *ImmutableError", err)
	}
	if ie.Kind != "secret" || ie.Name != stack+"_token" {
		t.Errorf("immutable error names %s %s, want secret %s_token", ie.Kind, ie.Name, stack)
	}
	if msg := err.Error(); !strings.Contains(msg, "bump its version") || strings.Contains(msg, "content\"") || strings.Contains(msg, "second content") {
		t.Errorf("error %q: want the bump advice and no secret data", msg)
	}
	after := stackServices(t, c, stack)
	if len(after) != len(before) {
		t.Errorf("services %d after the refused apply, want %d", len(after), len(before))
	}
	for name, s := range after {
		b := before[name]
		if s.Spec.Labels[deploy.LabelSpecDigest] != b.Spec.Labels[deploy.LabelSpecDigest] ||
			s.Spec.TaskTemplate.ContainerSpec.Image != b.Spec.TaskTemplate.ContainerSpec.Image {
			t.Errorf("service %s was updated by a refused apply", name)
		}
	}
	state, err := d.Observe(ctx, stack)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	for _, n := range state.Networks {
		if n == stack+"_extra" {
			t.Errorf("network %s was created by a refused apply", n)
		}
	}
}

func TestApplySwarmMissingExternals(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "noext")
	ctx := testContext(t)
	d := realDeployer(c)
	overlay := []byte(`
version: "3.8"
services:
  extra:
    image: swarmrun-probe:1
    networks: [ext]
    secrets: [extsecret]
    configs: [extconfig]
networks:
  ext: {external: true, name: ` + stack + `-no-such-network}
secrets:
  extsecret: {external: true, name: ` + stack + `-no-such-secret}
configs:
  extconfig: {external: true, name: ` + stack + `-no-such-config}
`)
	st, err := renderWithOverlay(t, stack, "testdata/simple", nil, overlay)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	_, err = d.Apply(ctx, st, deploy.ApplyOptions{})
	var me *deploy.MissingExternalError
	if !errors.As(err, &me) {
		t.Fatalf("apply: %v, want a *MissingExternalError", err)
	}
	if len(me.Networks) != 1 || me.Networks[0] != stack+"-no-such-network" ||
		len(me.Secrets) != 1 || me.Secrets[0] != stack+"-no-such-secret" ||
		len(me.Configs) != 1 || me.Configs[0] != stack+"-no-such-config" {
		t.Errorf("missing %+v, want the one network, secret and config", me)
	}
	state, err := d.Observe(ctx, stack)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	if state.Exists() {
		t.Errorf("apply with missing externals created objects: %+v", state)
	}
}
