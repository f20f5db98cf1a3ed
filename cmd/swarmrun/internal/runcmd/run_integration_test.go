//go:build integration

package runcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// Acceptance 12, second half: a TestRun whose Recipe does not exist fails with a clear reason
// (exit 1), and -o json prints the final TestRun.
func TestRunMissingRecipe(t *testing.T) {
	swarmtest.RequireSwarm(t)
	spec := writeSpec(t, `apiVersion: swarmrun.dev/v1alpha1
kind: TestRun
metadata: {name: it-norecipe}
spec: {recipe: nowhere}
`)
	dataDir := t.TempDir()
	var uids []string
	// The second run finds the first one finished: it replaces it rather than reporting it.
	for range 2 {
		var out, errOut bytes.Buffer
		code, _ := executeTo(t.Context(), []string{"run", "-f", spec, "--data-dir", dataDir, "-o", "json"}, &out, &errOut)
		if code != cli.ExitFailed {
			t.Fatalf("exit %d, want %d\n%s", code, cli.ExitFailed, errOut.String())
		}
		var tr v1alpha1.TestRun
		if err := json.Unmarshal(out.Bytes(), &tr); err != nil {
			t.Fatalf("-o json: %v\n%s", err, out.String())
		}
		c := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionSucceeded)
		if c == nil || c.Reason != v1alpha1.ReasonRecipeNotFound || !strings.Contains(c.Message, "nowhere") {
			t.Errorf("Succeeded = %+v", c)
		}
		uids = append(uids, tr.UID)
	}
	if uids[0] == uids[1] {
		t.Errorf("the second run reported the first instead of running again")
	}
}

// Acceptance 10: the controller killed with SIGKILL during the base wait, after the base is
// ready, during the head's rollout and after the prune; each time a restart finishes the run
// green, and each phase's services were updated exactly once.
func TestRunKilledAndRestarted(t *testing.T) {
	docker := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, docker, swarmtest.ProbeV1, swarmtest.ProbeV2)
	points := []struct{ name, marker string }{
		// The event follows the storing of the base's deploy record, right before its first
		// look: the kill lands between the apply and its observation (or in the first looks).
		{"base applied", "event Normal Applied: base applied"},
		{"base ready", "BaseReady True"},
		// deploy logs this right after the engine took the head's update, before the run
		// stores its DeployRecord: the kill lands inside the head's apply.
		{"head apply", "service updated"},
		{"head applied", "event Normal Applied: head applied"},
		{"after prune", "Pruned True"},
	}
	for i, p := range points {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			name := fmt.Sprintf("it-kill%d-%s", i, time.Now().Format("150405"))
			dataDir := t.TempDir()
			spec := writeSpec(t, fmt.Sprintf(killRecipe, testRepo(t), name))
			args := []string{"run", "-f", spec, "--data-dir", dataDir, "--min-backoff", "200ms", "-v"}

			out, err := runChild(t, args, p.marker)
			if err == nil {
				t.Fatalf("the first run ended before %q:\n%s", p.marker, out)
			}
			stack := stackOf(t, dataDir, name)
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if err := swarmtest.RemoveStack(ctx, docker, stack, true); err != nil {
					t.Errorf("remove stack %s: %v", stack, err)
				}
			})

			if testing.Verbose() {
				t.Logf("first run, killed at %q:\n%s", p.marker, tailLines(out, 6))
			}
			out, err = runChild(t, args, "")
			if testing.Verbose() {
				t.Logf("restart:\n%s", out)
			}
			if err != nil {
				t.Fatalf("the restart: %v\n%s", err, out)
			}
			if !strings.Contains(out, "testrun/"+name+": Succeeded") {
				t.Fatalf("verdict:\n%s", out)
			}
			// The records say what each phase's first apply did, even when it was killed.
			raw, err := os.ReadFile(filepath.Join(dataDir, "runs", name, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			var res struct {
				Deploys []v1alpha1.DeployRecord `json:"deploys"`
			}
			if err := json.Unmarshal(raw, &res); err != nil {
				t.Fatal(err)
			}
			if len(res.Deploys) != 2 || len(res.Deploys[0].Created) != 2 || !slices.Equal(res.Deploys[1].Updated, []string{stack + "_app"}) {
				t.Errorf("deploy records = %+v", res.Deploys)
			}
			// One base task on probe 1 replaced by one head task on probe 2: one rollout each.
			tasks, err := docker.TaskList(t.Context(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", stack+"_app"))})
			if err != nil {
				t.Fatal(err)
			}
			var images []string
			for _, tk := range tasks {
				images = append(images, strings.SplitN(tk.Spec.ContainerSpec.Image, "@", 2)[0])
			}
			if len(tasks) != 2 || !contains(images, swarmtest.ProbeV1) || !contains(images, swarmtest.ProbeV2) {
				t.Errorf("app tasks run %v, want one on each image", images)
			}
			svc, _, err := docker.ServiceInspectWithRaw(t.Context(), stack+"_app", swarm.ServiceInspectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if svc.PreviousSpec == nil || !strings.HasPrefix(svc.PreviousSpec.TaskTemplate.ContainerSpec.Image, swarmtest.ProbeV1) {
				t.Errorf("app's previous spec is not the base's: a phase rolled out twice")
			}
			if _, _, err := docker.ServiceInspectWithRaw(t.Context(), stack+"_sidekiq", swarm.ServiceInspectOptions{}); err == nil {
				t.Errorf("sidekiq not pruned")
			}
		})
	}
}

// -o json masks the values of secret-shaped keys of spec.env, as results.json does.
func TestRunJSONMasksEnv(t *testing.T) {
	swarmtest.RequireSwarm(t)
	spec := writeSpec(t, `apiVersion: swarmrun.dev/v1alpha1
kind: TestRun
metadata: {name: it-maskenv}
spec:
  recipe: nowhere
  env: {DB_PASSWORD: hunter2-secret-value, SECRET_DB_PASSWORD_VERSION: v1, LOCALE: en_GB}
`)
	var out, errOut bytes.Buffer
	code, _ := executeTo(t.Context(), []string{"run", "-f", spec, "--data-dir", t.TempDir(), "-o", "json"}, &out, &errOut)
	if code != cli.ExitFailed {
		t.Fatalf("exit %d, want %d\n%s", code, cli.ExitFailed, errOut.String())
	}
	if strings.Contains(out.String()+errOut.String(), "hunter2-secret-value") {
		t.Fatalf("-o json prints a secret:\n%s", out.String())
	}
	var tr v1alpha1.TestRun
	if err := json.Unmarshal(out.Bytes(), &tr); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out.String())
	}
	want := map[string]string{"DB_PASSWORD": "***", "SECRET_DB_PASSWORD_VERSION": "v1", "LOCALE": "en_GB"}
	if fmt.Sprint(tr.Spec.Env) != fmt.Sprint(want) {
		t.Errorf("spec.env = %v, want %v", tr.Spec.Env, want)
	}
}
