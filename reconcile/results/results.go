package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/internal/mask"
)

// Artifact file names.
const (
	JSONFile    = "results.json"
	JUnitFile   = "junit.xml"
	SummaryFile = "summary.md"
)

// Result is the content of results.json.
type Result struct {
	APIVersion string                         `json:"apiVersion"`
	Kind       string                         `json:"kind"`
	TestRun    string                         `json:"testrun"`
	Recipe     string                         `json:"recipe"`
	Stack      string                         `json:"stack,omitempty"`
	Stages     []v1alpha1.Stage               `json:"stages"`
	Env        map[string]string              `json:"env,omitempty"`
	Succeeded  string                         `json:"succeeded"`
	Reason     string                         `json:"reason,omitempty"`
	Message    string                         `json:"message,omitempty"`
	Level      int                            `json:"level"`
	MaxLevel   int                            `json:"maxLevel"`
	Base       *v1alpha1.BasePlan             `json:"base,omitempty"`
	Head       *v1alpha1.HeadStatus           `json:"head,omitempty"`
	Deploys    []v1alpha1.DeployRecord        `json:"deploys,omitempty"`
	Pruned     []string                       `json:"pruned"`
	Tiers      map[string]v1alpha1.TierResult `json:"tiers,omitempty"`
	Conditions []v1alpha1.Condition           `json:"conditions,omitempty"`
	Timings    Timings                        `json:"timings"`
}

// Timings are the run's wall-clock figures.
type Timings struct {
	StartedAt   *v1alpha1.Time    `json:"startedAt,omitempty"`
	CompletedAt *v1alpha1.Time    `json:"completedAt,omitempty"`
	Duration    v1alpha1.Duration `json:"duration"`
	// Converge is each deploy's time from start to converged, by role.
	Converge map[string]v1alpha1.Duration `json:"converge,omitempty"`
}

// Dir is where a TestRun's artifacts go under the data dir.
func Dir(dataDir, testrun string) string { return filepath.Join(dataDir, "runs", testrun) }

// Build derives the Result of a TestRun, masked.
func Build(tr *v1alpha1.TestRun, m *mask.Masker) Result {
	st := tr.Status
	r := Result{
		APIVersion: v1alpha1.APIVersion,
		Kind:       "TestRunResult",
		TestRun:    tr.Name,
		Recipe:     tr.Spec.Recipe,
		Stack:      st.Stack,
		Stages:     tr.Spec.Stages,
		Env:        m.Env(tr.Spec.Env),
		Succeeded:  string(v1alpha1.ConditionUnknown),
		Level:      st.Level,
		MaxLevel:   v1alpha1.MaxLevel,
		Base:       st.Base,
		Head:       st.Head,
		Deploys:    st.Deploys,
		Pruned:     st.Pruned,
		Tiers:      maskTiers(st.Tiers, m),
		Conditions: maskConditions(st.Conditions, m),
		Timings:    Timings{StartedAt: st.StartedAt, CompletedAt: st.CompletedAt},
	}
	if r.Pruned == nil {
		r.Pruned = []string{}
	}
	if c := apimeta.FindStatusCondition(st.Conditions, v1alpha1.ConditionSucceeded); c != nil {
		r.Succeeded, r.Reason, r.Message = string(c.Status), c.Reason, m.String(c.Message)
	}
	if st.StartedAt != nil && st.CompletedAt != nil {
		r.Timings.Duration = v1alpha1.Duration{Duration: st.CompletedAt.Sub(st.StartedAt.Time)}
	}
	for _, d := range st.Deploys {
		if d.StartedAt != nil && d.ConvergedAt != nil {
			if r.Timings.Converge == nil {
				r.Timings.Converge = map[string]v1alpha1.Duration{}
			}
			r.Timings.Converge[d.Role] = v1alpha1.Duration{Duration: d.ConvergedAt.Sub(d.StartedAt.Time)}
		}
	}
	return r
}

func maskTiers(tiers map[string]v1alpha1.TierResult, m *mask.Masker) map[string]v1alpha1.TierResult {
	if tiers == nil {
		return nil
	}
	out := make(map[string]v1alpha1.TierResult, len(tiers))
	for name, t := range tiers {
		t.Reason = m.String(t.Reason)
		checks := make([]v1alpha1.CheckResult, len(t.Checks))
		for i, c := range t.Checks {
			c.Message, c.Output = m.String(c.Message), m.String(c.Output)
			checks[i] = c
		}
		if t.Checks != nil {
			t.Checks = checks
		}
		out[name] = t
	}
	return out
}

func maskConditions(cs []v1alpha1.Condition, m *mask.Masker) []v1alpha1.Condition {
	out := make([]v1alpha1.Condition, len(cs))
	for i, c := range cs {
		c.Message = m.String(c.Message)
		out[i] = c
	}
	return out
}

// Write writes results.json, junit.xml and summary.md of tr into dir, each atomically (a
// reader never sees half a file), and returns their paths.
func Write(dir string, tr *v1alpha1.TestRun, m *mask.Masker, now time.Time) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("results dir: %w", err)
	}
	r := Build(tr, m)
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", JSONFile, err)
	}
	junit, err := JUnit(r, now)
	if err != nil {
		return nil, err
	}
	files := []struct {
		name string
		data []byte
	}{
		{JSONFile, append(js, '\n')},
		{JUnitFile, junit},
		{SummaryFile, []byte(Summary(r))},
	}
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := writeAtomic(p, f.data); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// tierOrder lists tiers in the order a run climbs them, then any others by name.
func tierOrder(tiers map[string]v1alpha1.TierResult) []string {
	var order []string
	seen := map[string]bool{}
	for _, s := range v1alpha1.Stages() {
		if _, ok := tiers[string(s)]; ok {
			order = append(order, string(s))
			seen[string(s)] = true
		}
	}
	var rest []string
	for name := range tiers {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	return append(order, rest...)
}
