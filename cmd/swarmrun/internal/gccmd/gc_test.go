package gccmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/gccmd"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
	"github.com/swarmrun/swarmrun/warm"
)

const probe = "swarmrun-probe:1"

var now = time.Date(2026, 6, 17, 12, 0, 0, 0, time.UTC)

// swarm is a fake engine whose objects were created an hour before now.
func swarm(t *testing.T, stacks ...invtest.Stack) *fake.Fake {
	t.Helper()
	return invtest.Swarm(t, now.Add(-time.Hour), probe, stacks...)
}

// dataDir makes a data dir whose store holds objs. Unix socket paths are limited to 108
// bytes, which t.TempDir() can exceed.
func dataDir(t *testing.T, objs ...v1alpha1.Object) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	st, err := store.Open(filepath.Join(dir, "swarmrun.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, o := range objs {
		if err := st.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func gc(t *testing.T, f deploy.Engine, dir string, args ...string) (string, string, int) {
	t.Helper()
	root := &cobra.Command{Use: "swarmrun", SilenceUsage: true, SilenceErrors: true}
	g := &cli.Globals{}
	g.Bind(root)
	root.AddCommand(gccmd.Command(g, gccmd.Options{
		Engine: func(*cli.Globals) (deploy.Engine, func(), error) { return f, func() {}, nil },
		Now:    func() time.Time { return now },
	}))
	root.SetArgs(append([]string{"--data-dir", dir, "--server", "", "gc"}, args...))
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(t.Context())
	if err != nil {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), cli.ExitCode(err)
}

func stacks(t *testing.T, f *fake.Fake) string {
	t.Helper()
	return invtest.Live(t, f)
}

func TestGCDryRunThenRemove(t *testing.T) {
	f := swarm(t,
		invtest.Stack{Name: "run-gone", Labels: invtest.Owned(v1alpha1.LabelTestRun, "gone")},
		invtest.Stack{Name: "warm-keycloak"},
		invtest.Stack{Name: "warm-up"},
		invtest.Stack{Name: "demo"},
	)
	// Adoption is for a Recipe that exists (keycloak, without a canonical); there is no
	// Recipe up.
	dir := dataDir(t, &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: "keycloak"}, Spec: v1alpha1.RecipeSpec{Warm: true}})

	out, errOut, code := gc(t, f, dir, "--dry-run")
	if code != 1 {
		t.Fatalf("dry run with something stale exits %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"KIND    NAME            STACK           ACTION         WHY",
		"stack   run-gone        run-gone        would-remove   TestRun gone no longer exists",
		"stack   warm-keycloak   warm-keycloak   report         unlabelled warm-looking stack; recipe keycloak has no canonical record (adopt with --adopt-warm)",
		"stack   warm-up         warm-up         report         unlabelled warm-looking stack; no Recipe up exists, so it is not adopted",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "demo") || !strings.Contains(errOut, "dry run: 1 stale, 2 reported, 0 kept, 1 other stacks ignored") {
		t.Errorf("out:\n%s\nerr:\n%s", out, errOut)
	}
	if got := stacks(t, f); got != "demo,run-gone,warm-keycloak,warm-up" {
		t.Fatalf("dry run removed something: %s", got)
	}

	out, errOut, code = gc(t, f, dir)
	if code != 0 || !strings.Contains(out, "run-gone        run-gone        removed") {
		t.Fatalf("gc exits %d\n%s%s", code, out, errOut)
	}
	if _, _, code = gc(t, f, dir, "--dry-run"); code != 0 {
		t.Errorf("dry run with nothing stale exits %d, want 0", code)
	}
	if out, errOut, code = gc(t, f, dir, "--adopt-warm"); code != 0 || !strings.Contains(out, "warm-keycloak   removed") {
		t.Fatalf("adopting gc exits %d\n%s%s", code, out, errOut)
	}
	if got := stacks(t, f); got != "demo,warm-up" {
		t.Errorf("left: %s, want the stack of no Recipe kept", got)
	}
}

func TestGCJSON(t *testing.T) {
	f := swarm(t, invtest.Stack{Name: "warm-x", Labels: invtest.Owned(v1alpha1.LabelWarm, "x")})
	out, _, code := gc(t, f, dataDir(t), "--dry-run", "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var r warm.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !r.DryRun || len(r.Plan.Stale) != 1 || r.Plan.Stale[0].Why != "Recipe x no longer exists" || r.Plan.Stale[0].Volumes {
		t.Errorf("report = %+v", r)
	}
}

func TestGCExitCodes(t *testing.T) {
	two := []invtest.Stack{{Name: "run-a", Labels: invtest.Owned(v1alpha1.LabelTestRun, "a")}, {Name: "run-b", Labels: invtest.Owned(v1alpha1.LabelTestRun, "b")}}
	t.Run("left over the cap", func(t *testing.T) {
		f := swarm(t, two...)
		out, _, code := gc(t, f, dataDir(t), "--max-deletions", "1")
		if code != 1 || !strings.Contains(out, "run-b   run-b   deferred") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("removal failed", func(t *testing.T) {
		f := swarm(t, two...)
		f.FailNext("ServiceRemove", errors.New("engine says no"))
		out, errOut, code := gc(t, f, dataDir(t))
		if code != 2 || !strings.Contains(out, "failed") || !strings.Contains(errOut, "engine says no") {
			t.Errorf("exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("no store", func(t *testing.T) {
		f := swarm(t, two...)
		dir := t.TempDir()
		_, errOut, code := gc(t, f, dir)
		if code != 2 || !strings.Contains(errOut, "no store at") {
			t.Errorf("exit %d: %s", code, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "swarmrun.db")); err == nil {
			t.Error("gc created a store")
		}
		if stacks(t, f) != "run-a,run-b" {
			t.Error("gc without objects removed stacks")
		}
	})
	t.Run("name prefix", func(t *testing.T) {
		f := swarm(t, two...)
		out, _, code := gc(t, f, dataDir(t), "--name-prefix", "run-b")
		if code != 0 || strings.Contains(out, "run-a") || stacks(t, f) != "run-a" {
			t.Errorf("exit %d, left %s\n%s", code, stacks(t, f), out)
		}
	})
	t.Run("bad output", func(t *testing.T) {
		if _, _, code := gc(t, swarm(t), dataDir(t), "-o", "yaml"); code != 2 {
			t.Errorf("exit %d", code)
		}
	})
}

// TestGCReadsTheAPIServer: with a server on the socket the objects come from it (the store
// file is locked by the server, so reading it directly would fail).
func TestGCReadsTheAPIServer(t *testing.T) {
	f := swarm(t, invtest.Stack{Name: "warm-kc", Labels: invtest.Owned(v1alpha1.LabelWarm, "kc")})
	rc := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: "kc"}, Spec: v1alpha1.RecipeSpec{Warm: true},
		Status: v1alpha1.RecipeStatus{Canonical: &v1alpha1.Canonical{Version: "1.0.0+1"}}}
	dir := dataDir(t, rc)
	st, err := store.Open(filepath.Join(dir, "swarmrun.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(t.Context())
	ln, err := server.ListenUnix(ctx, filepath.Join(dir, "swarmrun.sock"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, ln, server.New(st, server.Options{}), time.Second) }()
	defer func() { cancel(); <-done }()

	out, errOut, code := gc(t, f, dir, "--dry-run")
	if code != 0 || !strings.Contains(out, "keep") || !strings.Contains(errOut, "objects from the API at") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}
