//go:build integration

package reconcile

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/internal/testkit"
)

// TestSwarmShapesUpgrade runs the shapes recipe (testdata/recipes/shapes: abra's shapes,
// written for swarmrun's tests) on the real swarm: its images exist in no registry, and run
// on the probe images through the Recipe's overrides. Release 1.0.0+1.0 (app, db and the
// worker of an overlay its line-by-line COMPOSE_FILE adds) upgrades to 2.0.0+2.0, which
// drops the worker: the worker is pruned, the head verified on the overridden images. The
// install checks read, from inside the stack, the greeting config the engine rendered from
// a golang template with {{ env "GREETING" }} and {{ env "TYPE" }} (variables of .env.sample
// the app service never declares: the app env is exposed to it), and the token secret
// generated under its interpolated name; the recipe's external proxy network is the run's
// own <stack>_proxy, owned like the rest.
func TestSwarmShapesUpgrade(t *testing.T) {
	t.Parallel()
	e := newSwarmEnv(t)
	repo, _ := testkit.Shapes(t, filepath.Join("..", "testdata", "recipes", "shapes"))
	rc := newRecipe("shapes", repo.Dir)
	rc.Spec.Images = testkit.ShapesOnProbe()
	rc.Spec.Checks = v1alpha1.Checks{
		Install: []v1alpha1.Check{
			{Name: "greeting", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/data/greeting", Contains: " in shapes (service "}},
			{Name: "greeting env", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/env/GREETING", Contains: "hello from "}},
			{Name: "token", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/secret/token", ExpectStatus: 200}},
		},
		Upgrade: v1alpha1.UpgradeChecks{After: []v1alpha1.Check{
			{Name: "version", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/version", Contains: "2"}},
		}},
	}
	tr := newTestRun(runName(t, "shapes"), "shapes", "2.0.0+2.0")
	tr.Spec.UpgradeBase = "1.0.0+1.0"
	tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}
	tr.Spec.Teardown = v1alpha1.TeardownNever // the stack's networks are looked at below; cleanup removes it
	start := time.Now()
	got := e.run(rc, tr)[0]
	t.Logf("shapes 1.0.0+1.0 -> 2.0.0+2.0 on the swarm in %s", time.Since(start).Round(100*time.Millisecond))

	requireSucceeded(t, got)
	st := got.Status.Stack
	if !slices.Equal(got.Status.Pruned, []string{st + "_worker"}) {
		t.Errorf("pruned = %v, want the worker 2.0.0 dropped", got.Status.Pruned)
	}
	if !conditionTrue(v1alpha1.ConditionVerified)(got) {
		t.Errorf("not verified")
	}
	install := got.Status.Tiers["install"]
	for _, c := range []string{"greeting", "greeting env", "token"} {
		if !hasPassed(install.Checks, c) {
			t.Errorf("install check %s: %+v", c, install.Checks)
		}
	}
	if got.Status.Level != 2 {
		t.Errorf("level = %d, want 2 (install, upgrade; backup not asked for)", got.Status.Level)
	}
	head := deployRecord(got, roleHead)
	if i := slices.IndexFunc(head.Images, func(r v1alpha1.ImageRecord) bool { return r.Service == st+"_app" }); i < 0 ||
		head.Images[i].Image != probe2 || head.Images[i].Compose != "example.org/shapes/app:2" {
		t.Errorf("head images %+v", head.Images)
	}
	live := e.observe(st)
	for _, s := range live.Services {
		if s.Name == st+"_worker" || s.ComposeImage != probe1 && s.ComposeImage != probe2 {
			t.Errorf("live service %s on %s", s.Name, s.ComposeImage)
		}
	}
	nets, err := e.docker.NetworkList(t.Context(), network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", st+"_proxy"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(nets) != 1 || nets[0].Labels[v1alpha1.LabelTestRun] != got.Name || nets[0].Labels["com.docker.stack.namespace"] != st {
		t.Errorf("proxy network %+v, want %s_proxy owned by the run", nets, st)
	}
}
