//go:build integration

package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/internal/testkit"
	"github.com/swarmrun/swarmrun/reconcile/results"
)

// Acceptance 3 (real swarm): a head with backupbot labels, and no operator checks at all,
// reaches backup and restore passed. The hooks ran in the probe's container (it has no shell:
// their words ran directly), the archive holds the volume under its host path with the
// pre-hook's dump and the marker, and the restore brought both back (the restore post-hook
// fails unless the dump the post-hook overwrote is the archived one again; the marker check
// fails unless the marker the backup changed reads as before it).
func TestSwarmBackupRestoreFromLabels(t *testing.T) {
	t.Parallel()
	e := newSwarmEnv(t)
	rc := newRecipe("bk", backupRepo(t, "0.2.0+2"))
	tr := newTestRun(runName(t, "bk"), rc.Name, "0.2.0+2")
	tr.Spec.UpgradeBase = "0.1.0+1"
	got := e.run(rc, tr)[0]
	requireSucceeded(t, got)

	b, r := got.Status.Tiers["backup"], got.Status.Tiers["restore"]
	if b.Result != v1alpha1.ResultPassed || r.Result != v1alpha1.ResultPassed {
		t.Fatalf("backup %s (%s) %+v\nrestore %s (%s) %+v", b.Result, b.Reason, b.Checks, r.Result, r.Reason, r.Checks)
	}
	for _, name := range []string{"restore: put back", "restore: post-hook app", "restore: markers back", "restore: converged"} {
		if !hasPassed(r.Checks, name) {
			t.Errorf("restore check %s did not pass: %+v", name, r.Checks)
		}
	}
	if len(b.Artifacts) != 1 {
		t.Fatalf("artifacts %+v", b.Artifacts)
	}
	a := b.Artifacts[0]
	file := filepath.Join(results.Dir(e.dataDir, got.Name), a.Path)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("archive not kept: %v", err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != a.SHA256 {
		t.Errorf("archive digest %x, recorded %s", sum, a.SHA256)
	}
	root := "var/lib/docker/volumes/" + got.Status.Stack + "_data/_data/"
	files := testkit.TarGzFiles(t, file)
	if files[root+"dump"] != "dumped-by-the-pre-hook" || !strings.Contains(files[root+".swarmrun-backup-marker"], "written before the backup") {
		t.Errorf("archive holds %v", files)
	}
	if got.Status.Level != 3 {
		t.Errorf("level = %d, want 3 (custom has no checks)", got.Status.Level)
	}
	t.Logf("backup %s, restore %s", sumDurations(b.Checks), sumDurations(r.Checks))
}

// Acceptance 3: without backupbot labels in the head, backup and restore are not applicable
// for that reason, though the base had labels.
func TestSwarmBackupNotApplicableWithoutLabels(t *testing.T) {
	t.Parallel()
	e := newSwarmEnv(t)
	rc := newRecipe("nobk", backupRepo(t, "0.1.0+1"))
	tr := newTestRun(runName(t, "nobk"), rc.Name, "0.2.0+2")
	tr.Spec.UpgradeBase = "0.1.0+1"
	tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade, v1alpha1.StageBackup, v1alpha1.StageRestore}
	got := e.run(rc, tr)[0]
	requireSucceeded(t, got)
	for _, tier := range []string{"backup", "restore"} {
		if res := got.Status.Tiers[tier]; res.Result != v1alpha1.ResultNotApplicable || res.Reason != "no backupbot labels in the head" {
			t.Errorf("%s = %+v", tier, res)
		}
	}
	if _, err := os.Stat(filepath.Join(results.Dir(e.dataDir, got.Name), "backup")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a backup directory exists for a run without labels: %v", err)
	}
}

func sumDurations(cs []v1alpha1.CheckResult) string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Name+" "+c.Duration.Duration.Round(1e6).String())
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
