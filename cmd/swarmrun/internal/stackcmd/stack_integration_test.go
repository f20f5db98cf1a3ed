//go:build integration

package stackcmd

import (
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// TestDeployUpgradePruneOnSwarm is the CLI's whole path on the real swarm: deploy, upgrade
// to a compose that changes the image and drops a service (pruned), a missing image (exit 1,
// fast), ps and rm.
func TestDeployUpgradePruneOnSwarm(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	stack := swarmtest.StackName(t, c, "cli")
	dir := t.TempDir()
	envFile := writeFile(t, dir, ".env", "GREETING=from-file\n")
	f1 := writeFile(t, dir, "v1.yml", v1)
	f2 := writeFile(t, dir, "v2.yml", v2)

	out, code := run(t, "deploy", "-c", f1, "--env-file", envFile, stack)
	if code != 0 || !strings.Contains(out, "converged") {
		t.Fatalf("deploy v1: exit %d\n%s", code, out)
	}
	assertEnv(t, c, stack+"_app", "GREETING=from-file")

	// As in docker compose, the shell environment wins over the env file.
	t.Setenv("GREETING", "from-shell")
	out, code = run(t, "deploy", "-c", f2, "--env-file", envFile, stack)
	if code != 0 || !strings.Contains(out, "service "+stack+"_sidekiq pruned") {
		t.Fatalf("upgrade to v2: exit %d, want the sidekiq prune\n%s", code, out)
	}
	assertEnv(t, c, stack+"_app", "GREETING=from-shell")
	out, code = run(t, "ps", stack)
	if code != 0 || !strings.Contains(out, "swarmrun-probe:2") || strings.Contains(out, "sidekiq") {
		t.Fatalf("ps after upgrade: exit %d\n%s", code, out)
	}

	broken := writeFile(t, dir, "broken.yml", strings.ReplaceAll(v2, "swarmrun-probe:2", "swarmrun-probe:does-not-exist"))
	start := time.Now()
	out, code = run(t, "deploy", "-c", broken, stack)
	if code != cli.ExitFailed || !strings.Contains(out, "swarmrun-probe:does-not-exist") {
		t.Fatalf("missing image: exit %d, want 1 naming the image\n%s", code, out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("missing image reported after %s, want within 10s", d)
	}

	out, code = run(t, "rm", stack)
	if code != 0 || !strings.Contains(out, "service "+stack+"_app removed") {
		t.Fatalf("rm: exit %d\n%s", code, out)
	}
	if out, code = run(t, "ps", stack); code != cli.ExitFailed {
		t.Fatalf("ps of a removed stack: exit %d, want 1\n%s", code, out)
	}
}
