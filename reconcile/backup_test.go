package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/internal/testkit"
)

// backupRepo is the standard recipe with backupbot labels on the app at the versions named
// in labelled (base 0.1.0+1, head 0.2.0+2).
func backupRepo(t *testing.T, labelled ...string) string {
	t.Helper()
	versions := []repoVersion{
		{Image: probe1, Version: "0.1.0+1", Sidekiq: true, Tag: "0.1.0+1"},
		{Image: probe2, Version: "0.2.0+2", Tag: "0.2.0+2"},
	}
	for i := range versions {
		if slices.Contains(labelled, versions[i].Version) {
			versions[i].Labels = testkit.BackupLabels()
		}
	}
	dir, _ := recipeRepo(t, "main", versions...)
	return dir
}

// runUpgrade stores rc and runs a TestRun of it, named after it, from 0.1.0+1 to the head
// 0.2.0+2 (prep changes the run first), to its verdict.
func (e *fakeEnv) runUpgrade(rc *v1alpha1.Recipe, prep func(*v1alpha1.TestRun)) *v1alpha1.TestRun {
	e.t.Helper()
	e.apply(rc)
	tr := newTestRun(rc.Name+"-run", rc.Name, "0.2.0+2")
	tr.Spec.UpgradeBase = "0.1.0+1"
	if prep != nil {
		prep(tr)
	}
	e.apply(tr)
	return e.reconcileDone(e.rec, tr.Name, steps)
}

func checkNames(cs []v1alpha1.CheckResult) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// Acceptance 3 (fake engine): a head with backupbot labels reaches backup and restore passed
// with no operator checks; the backup kept its archive with the digest recorded, and the
// restore proved itself by the marker and the stack's convergence.
func TestBackupRestoreFromLabels(t *testing.T) {
	e := newFakeEnv(t)
	got := e.runUpgrade(newRecipe("bk", backupRepo(t, "0.2.0+2")), nil)
	requireGreen(t, e, got)
	b, r := got.Status.Tiers["backup"], got.Status.Tiers["restore"]
	if b.Result != v1alpha1.ResultPassed || r.Result != v1alpha1.ResultPassed {
		t.Fatalf("backup %s (%s), restore %s (%s): %s", b.Result, b.Reason, r.Result, r.Reason, e.describe("bk-run"))
	}
	wantBackup := []string{"backup: backupbot labels", "backup: marker in " + got.Status.Stack + "_data:/", "backup: pre-hook app",
		"backup: archive", "backup: post-hook app", "backup: markers in the archive", "backup: markers changed"}
	if !slices.Equal(checkNames(b.Checks), wantBackup) {
		t.Errorf("backup checks %q, want %q", checkNames(b.Checks), wantBackup)
	}
	wantRestore := []string{"restore: backupbot labels", "restore: archive", "restore: put back", "restore: post-hook app",
		"restore: markers back", "restore: converged"}
	if !slices.Equal(checkNames(r.Checks), wantRestore) {
		t.Errorf("restore checks %q, want %q", checkNames(r.Checks), wantRestore)
	}
	for _, c := range append(b.Checks, r.Checks...) {
		if c.Source != v1alpha1.CheckSourceBuiltin {
			t.Errorf("check %s has source %q, want builtin", c.Name, c.Source)
		}
	}
	if len(b.Artifacts) != 1 {
		t.Fatalf("backup artifacts %+v, want the archive", b.Artifacts)
	}
	a := b.Artifacts[0]
	data, err := os.ReadFile(filepath.Join(e.dataDir, "runs", "bk-run", a.Path))
	if err != nil {
		t.Fatalf("the archive is not kept: %v", err)
	}
	sum := sha256.Sum256(data)
	if a.Path != filepath.Join("backup", got.Status.Stack+".tar.gz") || a.SHA256 != hex.EncodeToString(sum[:]) || a.Size != int64(len(data)) {
		t.Errorf("artifact %+v, file of %d bytes and sha256 %x", a, len(data), sum)
	}
	if got.Status.Level != 3 {
		t.Errorf("level = %d, want 3 (install, upgrade, backup + restore; custom has no checks)", got.Status.Level)
	}
}

// Without the head's labels, backup and restore are not applicable, with the reason, even
// where the base had labels; a declaration does not make them not applicable when the head
// has labels.
func TestBackupApplicabilityFromTheHead(t *testing.T) {
	t.Run("no labels in the head", func(t *testing.T) {
		e := newFakeEnv(t)
		got := e.runUpgrade(newRecipe("nolabel", backupRepo(t, "0.1.0+1")), nil)
		requireGreen(t, e, got)
		for _, tier := range []string{"backup", "restore"} {
			if res := got.Status.Tiers[tier]; res.Result != v1alpha1.ResultNotApplicable || res.Reason != "no backupbot labels in the head" {
				t.Errorf("%s = %+v, want notApplicable: no backupbot labels in the head", tier, res)
			}
		}
	})
	t.Run("declared not applicable, labels in the head", func(t *testing.T) {
		e := newFakeEnv(t)
		rc := newRecipe("declared", backupRepo(t, "0.2.0+2"))
		rc.Spec.ExpectedNotApplicable = map[v1alpha1.Stage]string{v1alpha1.StageBackup: "said so", v1alpha1.StageRestore: "said so"}
		got := e.runUpgrade(rc, nil)
		requireGreen(t, e, got)
		b := got.Status.Tiers["backup"]
		if b.Result != v1alpha1.ResultPassed || !strings.Contains(b.Reason, "but the head has backupbot labels") {
			t.Errorf("backup = %s (%s), want passed, saying the declaration was overruled", b.Result, b.Reason)
		}
	})
	t.Run("declared, no labels", func(t *testing.T) {
		e := newFakeEnv(t)
		rc := newRecipe("declared2", backupRepo(t))
		rc.Spec.ExpectedNotApplicable = map[v1alpha1.Stage]string{v1alpha1.StageBackup: "no state"}
		got := e.runUpgrade(rc, func(tr *v1alpha1.TestRun) {
			tr.Spec.UpgradeBase = ""
			tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageBackup}
		})
		if res := got.Status.Tiers["backup"]; res.Result != v1alpha1.ResultNotApplicable || res.Reason != "no backupbot labels in the head (the Recipe declares: no state)" {
			t.Errorf("backup = %+v", res)
		}
		if res := got.Status.Tiers["restore"]; res.Result != v1alpha1.ResultSkipped {
			t.Errorf("restore (not in stages) = %+v", res)
		}
	})
}

// A failed backup fails its tier and skips the restore, which has nothing to restore: the
// run is red at the backup tier.
func TestBackupFailureSkipsRestore(t *testing.T) {
	e := newFakeEnv(t)
	e.engine.SetExec(func(_ string, cmd []string) fake.ExecResult {
		if slices.Contains(cmd, "dumped-by-the-pre-hook") && slices.Contains(cmd, "-put") {
			return fake.ExecResult{ExitCode: 1, Stdout: "check PUT: refused"}
		}
		return fake.ExecResult{}
	})
	got := e.runUpgrade(newRecipe("bkfail", backupRepo(t, "0.2.0+2")), nil)
	if c := condition(got, v1alpha1.ConditionSucceeded); c.Reason != v1alpha1.ReasonCheckFailed || !strings.Contains(c.Message, "backup") {
		t.Fatalf("Succeeded = %s %s: %s", c.Status, c.Reason, c.Message)
	}
	b, r := got.Status.Tiers["backup"], got.Status.Tiers["restore"]
	if b.Result != v1alpha1.ResultFailed || !strings.Contains(b.Reason, "backup: pre-hook app") {
		t.Errorf("backup = %s (%s)", b.Result, b.Reason)
	}
	if r.Result != v1alpha1.ResultSkipped || !strings.HasPrefix(r.Reason, "no backup to restore: the backup tier failed") {
		t.Errorf("restore = %s (%s)", r.Result, r.Reason)
	}
	if got.Status.Level != 2 {
		t.Errorf("level = %d, want 2", got.Status.Level)
	}
}

func requireGreen(t *testing.T, e *fakeEnv, tr *v1alpha1.TestRun) {
	t.Helper()
	if c := condition(tr, v1alpha1.ConditionSucceeded); c.Status != v1alpha1.ConditionTrue {
		t.Fatalf("Succeeded = %s %s: %s\n%s", c.Status, c.Reason, c.Message, e.describe(tr.Name))
	}
}
