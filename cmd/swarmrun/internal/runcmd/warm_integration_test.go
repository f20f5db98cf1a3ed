//go:build integration

package runcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/internal/testkit"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/app"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/objcmd"
	"github.com/swarmrun/swarmrun/deploy/checks"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
	"github.com/swarmrun/swarmrun/internal/mask"
	"github.com/swarmrun/swarmrun/warm"
)

const warmSpec = `apiVersion: swarmrun.dev/v1alpha1
kind: Recipe
metadata: {name: %[1]s}
spec:
  source: {url: %[2]s}
  warm: true
  timeouts: {deploy: 2m}
---
apiVersion: swarmrun.dev/v1alpha1
kind: TestRun
metadata: {name: %[1]s-run}
spec:
  recipe: %[1]s
  head: 0.2.0+2
  stages: [install]
  timeout: 3m
`

// swarmrun run of the newest tag of a warm recipe promotes it in the store, as serve would,
// and leaves the warm stack to serve.
func TestRunPromotesWarmRecipe(t *testing.T) {
	docker := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, docker, swarmtest.ProbeV1, swarmtest.ProbeV2)
	name := "itw" + time.Now().Format("150405")
	dataDir := t.TempDir()
	var out, errOut bytes.Buffer
	code, err := executeTo(t.Context(), []string{"run", "-f", writeSpec(t, fmt.Sprintf(warmSpec, name, testRepo(t))),
		"--data-dir", dataDir, "--min-backoff", "200ms", "-o", "json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d (%v):\n%s", code, err, tailLines(errOut.String(), 10))
	}
	var tr v1alpha1.TestRun
	if err := json.Unmarshal(out.Bytes(), &tr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Torn down by the run already, unless the test failed before.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := swarmtest.RemoveStack(ctx, docker, tr.Status.Stack, true); err != nil {
			t.Errorf("remove stack %s: %v", tr.Status.Stack, err)
		}
	})
	c := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionPromoted)
	if c == nil || c.Status != v1alpha1.ConditionTrue {
		t.Errorf("Promoted = %+v in the final TestRun", c)
	}
	if !strings.Contains(errOut.String(), "Promoted True") {
		t.Errorf("progress does not show the promotion:\n%s", tailLines(errOut.String(), 10))
	}
	st, err := store.Open(filepath.Join(dataDir, "swarmrun.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rc := &v1alpha1.Recipe{}
	if err := st.Get(t.Context(), name, rc); err != nil {
		t.Fatal(err)
	}
	if rc.Status.Canonical == nil || rc.Status.Canonical.Version != "0.2.0+2" || rc.Status.Canonical.Run != tr.Name {
		t.Errorf("canonical = %+v, want 0.2.0+2 by %s", rc.Status.Canonical, tr.Name)
	}
	if ws, err := inventory.ListStack(t.Context(), docker, warm.StackName(name)); err != nil || len(ws.Objects()) != 0 {
		t.Errorf("run deployed the warm stack (%v): %v", err, ws)
	}
}

// serve's Runner keeps a warm recipe's stack at its canonical: it follows a new canonical
// with the volume's data kept and the dropped service pruned, and removes the stack (volumes
// kept) when the Recipe is deleted.
func TestRunnerKeepsWarmStack(t *testing.T) {
	docker := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, docker, swarmtest.ProbeV1, swarmtest.ProbeV2)
	name := "itws" + time.Now().Format("150405")
	stack := warm.StackName(name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := swarmtest.RemoveStack(ctx, docker, stack, true); err != nil {
			t.Errorf("remove stack %s: %v", stack, err)
		}
	})
	repo := testRepo(t)
	commit := func(tag string) string {
		out, err := exec.Command("git", "-C", repo, "rev-parse", tag).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	dataDir := t.TempDir()
	st, err := store.Open(filepath.Join(dataDir, "swarmrun.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rc := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: name},
		Spec: v1alpha1.RecipeSpec{Source: v1alpha1.RecipeSource{URL: repo}, Warm: true}}
	rc.Default()
	if err := st.Create(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
	promote := func(version string) {
		t.Helper()
		rc := &v1alpha1.Recipe{}
		if err := st.Get(t.Context(), name, rc); err != nil {
			t.Fatal(err)
		}
		rc.Status.Canonical = &v1alpha1.Canonical{Version: version, Commit: commit(version), Status: warm.CanonicalStatus, Run: "earlier"}
		if err := st.UpdateStatus(t.Context(), rc); err != nil {
			t.Fatal(err)
		}
	}
	ready := func(version string) {
		t.Helper()
		testkit.Eventually(t, time.Minute, 250*time.Millisecond, func() bool {
			got := &v1alpha1.Recipe{}
			if st.Get(t.Context(), name, got) != nil {
				return false
			}
			ws := got.Status.WarmStack
			return ws != nil && ws.Ready && ws.Version == version
		}, "warm stack %s never ready at %s", stack, version)
	}
	probe := checks.New(checks.Options{Engine: docker, Timeout: 30 * time.Second})
	check := func(c v1alpha1.Check) {
		t.Helper()
		if res := probe.Run(t.Context(), stack, c, mask.New()); res.Result != v1alpha1.ResultPassed {
			t.Fatalf("check %s on %s: %s %s\n%s", c.Name, stack, res.Result, res.Message, res.Output)
		}
	}
	promote("0.1.0+1")

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- app.Serve(&cli.Globals{DataDir: dataDir}, &app.Flags{}, &app.GCOptions{}, nil)(ctx, objcmd.Served{Store: st})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runner: %v", err)
		}
	}()
	ready("0.1.0+1")
	if ws, err := inventory.ListStack(ctx, docker, stack); err != nil || len(ws.Services) != 2 {
		t.Fatalf("warm stack at 0.1.0+1 (%v): want app and sidekiq", err)
	}
	check(v1alpha1.Check{Name: "write", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/data/k", Method: "PUT", Body: "warm-data", ExpectStatus: 204}})

	promote("0.2.0+2")
	ready("0.2.0+2")
	if ws, err := inventory.ListStack(ctx, docker, stack); err != nil || len(ws.Services) != 1 {
		t.Fatalf("warm stack at 0.2.0+2 (%v): want the app alone, sidekiq pruned", err)
	}
	check(v1alpha1.Check{Name: "read", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/data/k", Contains: "warm-data"}})
	check(v1alpha1.Check{Name: "version", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/version", Contains: "2"}})

	if _, err := st.Delete(ctx, v1alpha1.KindRecipe, name); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Minute, 250*time.Millisecond, func() bool {
		ws, err := inventory.ListStack(ctx, docker, stack)
		return err == nil && len(ws.Services)+len(ws.Networks)+len(ws.Secrets) == 0 && len(ws.Volumes) == 1
	}, "warm stack %s not removed with its volume kept after the recipe's deletion", stack)
	testkit.Eventually(t, 30*time.Second, 250*time.Millisecond, func() bool {
		return errors.Is(st.Get(ctx, name, &v1alpha1.Recipe{}), store.ErrNotFound)
	}, "recipe %s held after its stack went", name)
}
