//go:build integration

package deploy_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// TestOwnershipSwarmPlantedStackIsNeverTouched: a stack made like `docker stack deploy`
// makes one (namespace label only, no swarmrun labels), holding services a head does not
// declare, is neither pruned, updated nor removed under an owner, only reported.
func TestOwnershipSwarmPlantedStackIsNeverTouched(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "notown")
	ctx := testContext(t)
	d := realDeployer(c)
	ns := map[string]string{deploy.LabelNamespace: stack}
	for _, svc := range []string{"web", "worker", "extra"} {
		createService(t, c, stack+"_"+svc, ns)
	}
	before := stackServices(t, c, stack)

	head := renderStack(t, stack, "testdata/simple", nil, "dropped.yml")
	removed, err := d.PruneOwned(ctx, stack, head, nil, runOwner)
	var e *deploy.NotOwnedError
	if !errors.As(err, &e) || len(e.Objects) != 2 || len(removed) != 0 {
		t.Errorf("prune: removed %v, err %v; want nothing removed and extra and worker reported", removed, err)
	}
	if _, err := d.Apply(ctx, head, deploy.ApplyOptions{Labels: headLabels, Owner: runOwner}); !errors.As(err, &e) {
		t.Errorf("apply: %v, want a *NotOwnedError", err)
	} else if e.Objects[0].Name != stack+"_web" || e.Objects[0].Label != "swarmrun.dev/managed-by" || !e.Objects[0].Missing {
		t.Errorf("apply refused %+v, want service %s_web lacking swarmrun.dev/managed-by", e.Objects, stack)
	}
	if r, err := d.Remove(ctx, stack, deploy.RemoveOptions{Owner: runOwner, Volumes: true}); !errors.As(err, &e) || len(r.Services)+len(r.Networks) != 0 {
		t.Errorf("remove: %+v, %v; want nothing removed and a *NotOwnedError", r, err)
	}

	after := stackServices(t, c, stack)
	for name, s := range before {
		a, ok := after[name]
		switch {
		case !ok:
			t.Errorf("service %s was removed", name)
		case a.Version.Index != s.Version.Index:
			t.Errorf("service %s was updated (version %d -> %d)", name, s.Version.Index, a.Version.Index)
		}
	}
	if len(after) != len(before) {
		t.Errorf("services %v after, %v before", keys(after), keys(before))
	}
}

// TestOwnershipSwarmPruneKeepsAPlantedService: in a run's own stack, prune removes the
// run's dropped service and leaves the one someone planted in its namespace.
func TestOwnershipSwarmPruneKeepsAPlantedService(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "ownprune")
	ctx := testContext(t)
	d := realDeployer(c)
	if _, err := d.Apply(ctx, renderStack(t, stack, "testdata/simple", nil), deploy.ApplyOptions{Labels: runLabels, Owner: runOwner}); err != nil {
		t.Fatalf("apply base: %v", err)
	}
	planted := createService(t, c, stack+"_planted", map[string]string{deploy.LabelNamespace: stack})

	head := renderStack(t, stack, "testdata/simple", nil, "dropped.yml")
	if _, err := d.Apply(ctx, head, deploy.ApplyOptions{Labels: headLabels, Owner: runOwner}); err != nil {
		t.Fatalf("apply head: %v", err)
	}
	removed, err := d.PruneOwned(ctx, stack, head, nil, runOwner)
	if !slices.Equal(removed, []string{stack + "_worker"}) {
		t.Errorf("pruned %v, want %s_worker", removed, stack)
	}
	var e *deploy.NotOwnedError
	if !errors.As(err, &e) || len(e.Objects) != 1 || e.Objects[0].Name != stack+"_planted" {
		t.Errorf("prune: %v, want the planted service reported", err)
	}
	if _, _, err := c.ServiceInspectWithRaw(ctx, planted, swarm.ServiceInspectOptions{}); err != nil {
		t.Errorf("the planted service is gone: %v", err)
	}
}
