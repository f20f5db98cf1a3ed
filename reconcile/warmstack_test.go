package reconcile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/warm"
)

// A warm stack deploys like a run's version base, labelled as the recipe's warm stack; a
// second deploy of the same version changes nothing; the next version prunes what it dropped
// and keeps the volumes and the generated secrets.
func TestWarmStacksDeployVersion(t *testing.T) {
	e := newFakeEnv(t)
	url, commits := warmRepo(t)
	rc := newRecipe("wr", url)
	rc.Spec.Warm = true
	rc.Spec.Env = map[string]string{"MARK": "recipe-env"}
	rc.Spec.Overlays = []json.RawMessage{overlay(t, map[string]any{"services": map[string]any{
		"app": map[string]any{"deploy": map[string]any{"labels": map[string]string{"mark": "${MARK}"}}}}})}
	d := deploy.New(deploy.Options{Engine: e.engine, PollInterval: time.Millisecond})
	ws, err := NewWarmStacks(Options{Deployer: d, DataDir: e.dataDir, Stable: -1, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const stack = "warm-wr"
	ctx := t.Context()

	if err := ws.DeployVersion(ctx, rc, "0.1.0+1", commits[0], stack); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.ListStack(ctx, e.engine, stack)
	if err != nil {
		t.Fatal(err)
	}
	if own := warm.StackOwner(inv); !own.Managed || own.Warm != rc.Name || own.Conflict != "" {
		t.Errorf("owner = %+v, want the warm stack of %s", own, rc.Name)
	}
	if len(inv.Secrets) != 1 || len(inv.Volumes) != 1 {
		t.Errorf("secrets %v, volumes %v: want the generated secret and the data volume", inv.Secrets, inv.Volumes)
	}
	state, err := d.Observe(ctx, stack)
	if err != nil {
		t.Fatal(err)
	}
	app, _ := state.Service(stack + "_app")
	if app.Labels[recipe.LabelVersion(stack)] != "0.1.0+1" || app.Labels[recipe.LabelChaos(stack)] != "false" ||
		app.Labels[v1alpha1.LabelRole] != v1alpha1.RoleWarm {
		t.Errorf("app labels %v: want a version deploy of 0.1.0+1 with role warm", app.Labels)
	}
	if _, ok := state.Service(stack + "_sidekiq"); !ok {
		t.Errorf("0.1.0+1 declares sidekiq, not deployed")
	}
	if app.Labels["mark"] != "recipe-env" {
		t.Errorf("app labels %v: the Recipe's env and overlays are not applied", app.Labels)
	}

	// The same version again: nothing changes.
	if err := ws.DeployVersion(ctx, rc, "0.1.0+1", commits[0], stack); err != nil {
		t.Fatal(err)
	}
	again, _ := d.Observe(ctx, stack)
	if a, _ := again.Service(stack + "_app"); a.Version != app.Version {
		t.Errorf("redeploy of the same version updated the app (version %d -> %d)", app.Version, a.Version)
	}

	// The next version: sidekiq pruned, volume and secret kept (a secret of another value
	// under the same name would fail the apply as immutable).
	if err := ws.DeployVersion(ctx, rc, "0.2.0+2", commits[1], stack); err != nil {
		t.Fatal(err)
	}
	next, _ := d.Observe(ctx, stack)
	if _, ok := next.Service(stack + "_sidekiq"); ok {
		t.Errorf("sidekiq not pruned by 0.2.0+2")
	}
	if a, _ := next.Service(stack + "_app"); a.ComposeImage != probe2 || a.Labels[recipe.LabelVersion(stack)] != "0.2.0+2" {
		t.Errorf("app = %s %v, want %s at 0.2.0+2", a.ComposeImage, a.Labels, probe2)
	}
	if !slices.Equal(next.Volumes, state.Volumes) || !slices.Equal(next.Secrets, state.Secrets) {
		t.Errorf("volumes %v -> %v, secrets %v -> %v: want them kept", state.Volumes, next.Volumes, state.Secrets, next.Secrets)
	}
	if _, err := os.Stat(filepath.Join(e.dataDir, "warm", rc.Name, "0.2.0+2")); !os.IsNotExist(err) {
		t.Errorf("deploy directory left: %v", err)
	}
}
