package results

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/internal/mask"
)

const secret = "generated-secret-value-123"

func finishedRun() *v1alpha1.TestRun {
	start := metav1.NewTime(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	baseDone := metav1.NewTime(start.Add(8 * time.Second))
	end := metav1.NewTime(start.Add(42 * time.Second))
	tr := &v1alpha1.TestRun{
		ObjectMeta: v1alpha1.ObjectMeta{Name: "demo-pr4"},
		Spec: v1alpha1.TestRunSpec{
			Recipe: "demo",
			Env:    map[string]string{"DB_PASSWORD": "hunter22", "DOMAIN": "demo.example"},
		},
	}
	tr.Default()
	tr.Status = v1alpha1.TestRunStatus{
		Stack: "demo-pr4-8f3a1c",
		Base:  &v1alpha1.BasePlan{Kind: v1alpha1.BaseRef, Ref: "main", Commit: "f87c612d71b4aaaa", Reason: "target-branch (main) tip"},
		Head:  &v1alpha1.HeadStatus{Ref: "pr4", Commit: "ae5a8180ffffeeee", ChaosVersion: "ae5a8180"},
		Deploys: []v1alpha1.DeployRecord{{
			Role: "base", Commit: "f87c612d71b4aaaa", StartedAt: &start, ConvergedAt: &baseDone,
			Images: []v1alpha1.ImageRecord{{Service: "app", Image: "swarmrun-probe:1"},
				{Service: "db", Image: "swarmrun-probe:1", Compose: "ghcr.io/baosystems/postgis:17-3.5"}},
			Created: []string{"demo-pr4-8f3a1c_app", "demo-pr4-8f3a1c_sidekiq"},
		}},
		Pruned: []string{"demo-pr4-8f3a1c_sidekiq"},
		Tiers: map[string]v1alpha1.TierResult{
			"install": {Result: v1alpha1.ResultPassed, Checks: []v1alpha1.CheckResult{
				{Name: "home", Result: v1alpha1.ResultPassed, Duration: v1alpha1.Duration{Duration: 700 * time.Millisecond}},
			}},
			"upgrade": {Result: v1alpha1.ResultFailed, Reason: "check data-kept failed", Checks: []v1alpha1.CheckResult{
				{Name: "data-kept", Result: v1alpha1.ResultFailed, Message: "status 404", Output: "token=" + secret},
			}},
			"backup":  {Result: v1alpha1.ResultNotApplicable, Reason: "no backup labels"},
			"restore": {Result: v1alpha1.ResultSkipped, Reason: "not in stages"},
			"lint":    {Result: v1alpha1.ResultPassed},
		},
		Level:       1,
		StartedAt:   &start,
		CompletedAt: &end,
		Conditions: []v1alpha1.Condition{{
			Type: v1alpha1.ConditionSucceeded, Status: v1alpha1.ConditionFalse,
			Reason: v1alpha1.ReasonCheckFailed, Message: "upgrade check data-kept: " + secret,
		}},
	}
	return tr
}

func TestWriteArtifacts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "demo-pr4")
	paths, err := Write(dir, finishedRun(), mask.New(secret), time.Date(2026, 11, 27, 10, 1, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("wrote %d files, want 3: %v", len(paths), paths)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{secret, "hunter22"} {
			if strings.Contains(string(data), leak) {
				t.Errorf("%s contains a secret value", filepath.Base(p))
			}
		}
	}

	var r Result
	data, _ := os.ReadFile(filepath.Join(dir, JSONFile))
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if r.Succeeded != "False" || r.Reason != v1alpha1.ReasonCheckFailed || r.Level != 1 || r.MaxLevel != 5 {
		t.Errorf("verdict = %s/%s level %d/%d", r.Succeeded, r.Reason, r.Level, r.MaxLevel)
	}
	if r.Timings.Duration.Duration != 42*time.Second || r.Timings.Converge["base"].Duration != 8*time.Second {
		t.Errorf("timings = %+v", r.Timings)
	}
	if len(r.Pruned) != 1 || r.Pruned[0] != "demo-pr4-8f3a1c_sidekiq" {
		t.Errorf("pruned = %v", r.Pruned)
	}
	if r.Env["DB_PASSWORD"] != mask.Masked || r.Env["DOMAIN"] != "demo.example" {
		t.Errorf("env = %v", r.Env)
	}
}

func TestJUnitIsValidAndCounts(t *testing.T) {
	out, err := JUnit(Build(finishedRun(), mask.New(secret)), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, out)
	}
	if doc.Tests != 5 || doc.Failures != 1 || doc.Skipped != 2 {
		t.Errorf("totals tests=%d failures=%d skipped=%d, want 5/1/2", doc.Tests, doc.Failures, doc.Skipped)
	}
	var names []string
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "install,upgrade,backup,restore,lint" {
		t.Errorf("suites in order %s", got)
	}
	up := doc.Suites[1]
	if up.Failures != 1 || up.Cases[0].Failure == nil || up.Cases[0].Failure.Message != "status 404" {
		t.Errorf("upgrade suite = %+v", up)
	}
}

func TestSummary(t *testing.T) {
	s := Summary(Build(finishedRun(), mask.New(secret)))
	for _, want := range []string{
		"# TestRun demo-pr4: failed, level 1/5",
		"- Head: `pr4` at `ae5a8180ffff`",
		"- Base: ref `main` at `f87c612d71b4` — target-branch (main) tip",
		"- `demo-pr4-8f3a1c_sidekiq`",
		"app=swarmrun-probe:1<br>db=swarmrun-probe:1 (override of ghcr.io/baosystems/postgis:17-3.5)",
		"| upgrade | failed | check data-kept failed | data-kept: failed |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	// A pull request's head is its commit: named once.
	run := finishedRun()
	run.Status.Head.Ref = run.Status.Head.Commit
	if s := Summary(Build(run, mask.New(secret))); !strings.Contains(s, "- Head: commit `ae5a8180ffff`\n") {
		t.Errorf("summary of a run at a commit:\n%s", s)
	}
}

// The backup tier's archive and a warm base's copies are in the summary.
func TestSummaryArtifactsAndWarmCopy(t *testing.T) {
	tr := finishedRun()
	tr.Status.Base = &v1alpha1.BasePlan{Kind: v1alpha1.BaseWarm, Version: "0.1.0+1", Reason: "warm at 0.1.0+1",
		Warm: &v1alpha1.WarmBase{Stack: "warm-demo", Volumes: []v1alpha1.VolumeCopy{{From: "warm-demo_data", To: "demo-pr4-8f3a1c_data", Bytes: 2048}}}}
	tr.Status.Tiers["backup"] = v1alpha1.TierResult{Result: v1alpha1.ResultPassed, Artifacts: []v1alpha1.Artifact{
		{Name: "backup", Path: "backup/demo-pr4-8f3a1c.tar.gz", SHA256: "ab12", Size: 512}}}
	s := Summary(Build(tr, mask.New()))
	for _, want := range []string{
		"- Warm copy: `warm-demo_data` → `demo-pr4-8f3a1c_data` (2048 bytes)",
		"## Artifacts",
		"| backup | `backup/demo-pr4-8f3a1c.tar.gz` | 512 | `ab12` |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}
