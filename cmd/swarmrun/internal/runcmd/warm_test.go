package runcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
	"github.com/swarmrun/swarmrun/reconcile"
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
	c := apimeta.FindStatusCondition(tr.Status.Conditions, reconcile.ConditionPromoted)
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
