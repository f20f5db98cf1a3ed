package reconcile

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/network"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/internal/testkit"
)

// shapesRun applies the shapes recipe (testdata/recipes/shapes) with overrides and a run
// that upgrades release 1.0.0+1.0 to 2.0.0+2.0.
func shapesRun(t *testing.T, e *fakeEnv, name string, images []v1alpha1.ImageOverride) *v1alpha1.TestRun {
	t.Helper()
	repo, _ := testkit.Shapes(t, filepath.Join("..", "testdata", "recipes", "shapes"))
	rc := newRecipe("shapes", repo.Dir)
	rc.Spec.Images = images
	tr := newTestRun(name, "shapes", "2.0.0+2.0")
	tr.Spec.UpgradeBase = "1.0.0+1.0"
	tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}
	e.apply(rc, tr)
	return tr
}

// TestShapesUpgradeOnProbeImages: a recipe whose images cannot be pulled runs on the probe
// images through the Recipe's overrides; the upgrade drops the worker service, which is
// pruned; the deploy records show the overridden images with the compose file's; the
// verification holds the live services to the overridden images; the proxy network the
// recipe declares external is the run's own.
func TestShapesUpgradeOnProbeImages(t *testing.T) {
	e := newFakeEnv(t)
	tr := shapesRun(t, e, "shapes-up", testkit.ShapesOnProbe())
	tr.Spec.Teardown = v1alpha1.TeardownNever // the networks are looked at after the run
	e.apply(tr)
	got := e.reconcileDone(e.rec, tr.Name, steps)
	if c := condition(got, v1alpha1.ConditionSucceeded); c.Status != v1alpha1.ConditionTrue {
		t.Fatalf("Succeeded = %+v\n%s", c, e.describe(tr.Name))
	}
	st := got.Status.Stack
	if !slices.Equal(got.Status.Pruned, []string{st + "_worker"}) {
		t.Errorf("pruned %v, want the worker 2.0.0 dropped", got.Status.Pruned)
	}
	base, head := deployRecord(got, roleBase), deployRecord(got, roleHead)
	wantBase := []v1alpha1.ImageRecord{
		{Service: st + "_app", Image: probe1, Compose: "example.org/shapes/app:1"},
		{Service: st + "_db", Image: probe1, Compose: "example.org/shapes/db:1"},
		{Service: st + "_worker", Image: probe1, Compose: "example.org/shapes/worker:1"},
	}
	wantHead := []v1alpha1.ImageRecord{
		{Service: st + "_app", Image: probe2, Compose: "example.org/shapes/app:2"},
		{Service: st + "_db", Image: probe1, Compose: "example.org/shapes/db:1"},
	}
	for _, c := range []struct {
		rec  *v1alpha1.DeployRecord
		want []v1alpha1.ImageRecord
	}{{base, wantBase}, {head, wantHead}} {
		var images []v1alpha1.ImageRecord
		for _, img := range c.rec.Images {
			img.Digest = ""
			images = append(images, img)
		}
		if !slices.Equal(images, c.want) {
			t.Errorf("%s images %+v, want %+v", c.rec.Role, images, c.want)
		}
	}
	if want := []string{"compose.yml", "tune/compose.tune.yml"}; !slices.Equal(head.ComposeFiles, want) {
		t.Errorf("head compose files %v, want %v", head.ComposeFiles, want)
	}
	// Lint judges the recipe as written: warnings (db has no healthcheck, no README),
	// nothing critical, and nothing about the probe images the overrides put in.
	lint := got.Status.Tiers[v1alpha1.TierLint]
	var checks []string
	for _, c := range lint.Checks {
		checks = append(checks, c.Name+": "+c.Message)
	}
	if lint.Result != v1alpha1.ResultPassed || !slices.Contains(checks, "R002 db: no healthcheck") || strings.Contains(strings.Join(checks, "\n"), "swarmrun-probe") {
		t.Errorf("lint tier %s: %v", lint.Result, checks)
	}
	nets, err := e.engine.NetworkList(t.Context(), network.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nets {
		names = append(names, n.Name)
	}
	if !slices.Contains(names, st+"_proxy") || slices.Contains(names, "proxy") {
		t.Errorf("networks %v, want the run's own %s_proxy and no shared proxy", names, st)
	}
}

// TestShapesWithoutOverridesFailsOnImages: without overrides the recipe's images are not
// on this swarm, and the run says which.
func TestShapesWithoutOverridesFailsOnImages(t *testing.T) {
	e := newFakeEnv(t)
	tr := shapesRun(t, e, "shapes-noimg", nil)
	got := e.reconcileDone(e.rec, tr.Name, steps)
	c := condition(got, v1alpha1.ConditionSucceeded)
	if c.Status != v1alpha1.ConditionFalse || c.Reason != v1alpha1.ReasonImagePullFailed || !strings.Contains(c.Message, "example.org/shapes/") {
		t.Errorf("Succeeded = %+v, want False ImagePullFailed naming a shapes image", c)
	}
}

// TestVerifyHoldsServicesToOverriddenImages: a service left on the compose file's image
// (the override not applied) fails the head images check.
func TestVerifyHoldsServicesToOverriddenImages(t *testing.T) {
	pr := &stack.Prepared{Stack: "st", Role: roleHead, Services: map[string]stack.Service{
		"st_app": {Name: "st_app", Image: probe2, ComposeImage: "example.org/shapes/app:2"}}}
	tr := &v1alpha1.TestRun{Status: v1alpha1.TestRunStatus{Stack: "st", Head: &v1alpha1.HeadStatus{},
		Deploys: []v1alpha1.DeployRecord{{Role: roleHead}}}}
	for _, tt := range []struct {
		name, label, spec string
		fail              bool
	}{
		{"overridden", probe2, probe2 + "@sha256:1234", false},
		{"compose image", "example.org/shapes/app:2", "example.org/shapes/app:2", true},
	} {
		state := &deploy.StackState{Name: "st", Services: []deploy.ServiceState{{Name: "st_app", Image: tt.spec, ComposeImage: tt.label}}}
		res := verifyHead(tr, pr, state, &converge.Report{}, "app")
		if failed := res[0].Result == v1alpha1.ResultFailed; failed != tt.fail {
			t.Errorf("%s: head images %+v, want failed %t", tt.name, res[0], tt.fail)
		}
	}
}
