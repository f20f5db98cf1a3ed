//go:build integration

package reconcile

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/checks"
	"github.com/swarmrun/swarmrun/internal/mask"
	"github.com/swarmrun/swarmrun/internal/testkit"
	"github.com/swarmrun/swarmrun/warm"
)

// A warm run on the real swarm: data written into the warm stack is in the run's stack,
// copied, when the head's after check reads it; no base was deployed, and the run does not
// promote.
func TestSwarmWarmRun(t *testing.T) {
	t.Parallel()
	e := newSwarmEnv(t)
	e.serve()
	url, commits := warmRepo(t)
	name := uniqueRecipe(t, "wr")
	ws := warm.StackName(name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.removeStack(ctx, ws); err != nil {
			t.Errorf("remove %s: %v", ws, err)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	rc := newRecipe(name, url)
	rc.Spec.Warm = true
	rc.Spec.Checks.Upgrade.After = []v1alpha1.Check{{Name: "read", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/data/k", Contains: "from-the-warm-stack"}}}
	promote := newTestRun(runName(t, "wrp"), name, "0.2.0+2")
	promote.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall}
	e.apply(ctx, rc, promote)
	requireSucceeded(t, e.awaitFinished(ctx, promote)[0])
	testkit.Eventually(t, 90*time.Second, 250*time.Millisecond, func() bool {
		got := &v1alpha1.Recipe{}
		return e.store.Get(ctx, name, got) == nil && got.Status.WarmStack != nil && got.Status.WarmStack.Ready && got.Status.WarmStack.Version == "0.2.0+2"
	}, "warm stack never ready at 0.2.0+2")

	put := checks.New(checks.Options{Engine: e.docker, Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelWarm: name}})
	if res := put.Run(ctx, ws, v1alpha1.Check{Name: "seed", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/data/k",
		Method: "PUT", Body: "from-the-warm-stack", ExpectStatus: 204}}, mask.New()); res.Result != v1alpha1.ResultPassed {
		t.Fatalf("write into the warm stack: %+v", res)
	}

	run := newTestRun(runName(t, "wrw"), name, "")
	run.Spec.Base = &v1alpha1.BaseSource{From: v1alpha1.BaseFromWarm}
	run.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}
	start := time.Now()
	e.apply(ctx, nil, run)
	got := e.awaitFinished(ctx, run)[0]
	t.Logf("the warm run took %s to its verdict and teardown", time.Since(start).Round(time.Millisecond))
	requireSucceeded(t, got)
	if b := got.Status.Base; b.Kind != v1alpha1.BaseWarm || b.Version != "0.2.0+2" || b.Commit != commits[1] || b.Warm == nil || len(b.Warm.Volumes) != 1 {
		t.Errorf("base = %+v (warm %+v), want warm at 0.2.0+2 with one volume copied", b, b.Warm)
	}
	if len(got.Status.Deploys) != 1 || got.Status.Deploys[0].Role != roleHead {
		t.Errorf("deploys %+v, want the head's alone", got.Status.Deploys)
	}
	if !hasPassed(got.Status.Tiers["upgrade"].Checks, "after: read") {
		t.Errorf("upgrade tier %+v: the warm stack's data was not in the run's stack", got.Status.Tiers["upgrade"])
	}
	requireNotPromoted(t, e, got, "was not cold")
	if c := condition(got, v1alpha1.ConditionBaseReady); c.Reason != v1alpha1.ReasonWarmCopied || !strings.Contains(c.Message, "copied from "+ws) {
		t.Errorf("BaseReady = %s: %s", c.Reason, c.Message)
	}
}
