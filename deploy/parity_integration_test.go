//go:build integration

package deploy_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// TestParitySwarmWithDockerStackDeploy deploys testdata/parity once with `docker stack
// deploy` and once with swarmrun, under two stack names, and compares what the engine holds:
// every service spec field by field, and the networks, secrets and configs. IDs, versions,
// timestamps and swarmrun's own labels are ignored; stack names are normalised.
func TestParitySwarmWithDockerStackDeploy(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatalf("the docker CLI is needed for the parity test: %v", err)
	}
	ctx := testContext(t)
	// Registered first, so it runs after both stacks' cleanups.
	proxy := createOverlay(t, c)
	docker := swarmtest.StackName(t, c, "pard")
	ours := swarmtest.StackName(t, c, "parw")

	cmd := exec.CommandContext(ctx, "docker", "stack", "deploy", "--resolve-image", "never", "-c", "compose.yml", docker)
	cmd.Dir = "testdata/parity"
	cmd.Env = append(os.Environ(), "PROXY_NETWORK="+proxy)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker stack deploy: %v\n%s", err, out)
	}
	d := realDeployer(c)
	st := renderStack(t, ours, "testdata/parity", map[string]string{"PROXY_NETWORK": proxy})
	if _, err := d.Apply(ctx, st, deploy.ApplyOptions{Labels: ownership}); err != nil {
		t.Fatalf("apply: %v", err)
	}

	netNames := networkNames(t, c)
	theirs, mine := stackServices(t, c, docker), stackServices(t, c, ours)
	if len(theirs) != 3 || len(mine) != 3 {
		t.Fatalf("services: docker %v, swarmrun %v; want 3 each", keys(theirs), keys(mine))
	}
	for _, key := range []string{"web", "worker", "api"} {
		a, ok := theirs[docker+"_"+key]
		b, ok2 := mine[ours+"_"+key]
		if !ok || !ok2 {
			t.Errorf("service %s missing: docker %v, swarmrun %v", key, ok, ok2)
			continue
		}
		diffs := diff("spec", normalise(t, a.Spec, docker, netNames), normalise(t, b.Spec, ours, netNames))
		for _, d := range diffs {
			t.Errorf("service %s: %s", key, d)
		}
	}

	compareObjects(t, "networks", stackNetworks(t, c, docker), stackNetworks(t, c, ours), docker, ours)
	compareObjects(t, "secrets", stackSecrets(t, c, docker), stackSecrets(t, c, ours), docker, ours)
	compareObjects(t, "configs", stackConfigs(t, c, docker), stackConfigs(t, c, ours), docker, ours)
}
