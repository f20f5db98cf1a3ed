package reconcile

import (
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

func TestLevel(t *testing.T) {
	const (
		pass = v1alpha1.ResultPassed
		fail = v1alpha1.ResultFailed
		na   = v1alpha1.ResultNotApplicable
		skip = v1alpha1.ResultSkipped
	)
	tiers := func(results ...any) map[string]v1alpha1.TierResult {
		m := map[string]v1alpha1.TierResult{}
		for i := 0; i < len(results); i += 2 {
			m[results[i].(string)] = v1alpha1.TierResult{Result: results[i+1].(v1alpha1.TierResultValue)}
		}
		return m
	}
	tests := []struct {
		name  string
		tiers map[string]v1alpha1.TierResult
		want  int
	}{
		{"nothing ran", nil, 0},
		{"install failed", tiers("install", fail, "upgrade", pass), 0},
		{"install passed, upgrade failed", tiers("install", pass, "upgrade", fail, "backup", pass, "restore", pass, "custom", pass, "lint", pass), 1},
		{"all green but lint", tiers("install", pass, "upgrade", pass, "backup", pass, "restore", pass, "custom", pass, "lint", fail), 4},
		{"all green", tiers("install", pass, "upgrade", pass, "backup", pass, "restore", pass, "custom", pass, "lint", pass), v1alpha1.MaxLevel},
		{"not applicable counts", tiers("install", pass, "upgrade", na, "backup", na, "restore", na, "custom", pass, "lint", pass), 5},
		{"skipped does not count", tiers("install", pass, "upgrade", skip, "backup", pass, "restore", pass, "custom", pass, "lint", pass), 1},
		{"missing tier does not count", tiers("install", pass, "backup", pass, "restore", pass), 1},
		{"backup passed, restore failed", tiers("install", pass, "upgrade", pass, "backup", pass, "restore", fail, "custom", pass), 2},
		{"restore passed, backup missing", tiers("install", pass, "upgrade", pass, "restore", pass, "custom", pass), 2},
		{"backup and restore, custom failed", tiers("install", pass, "upgrade", pass, "backup", pass, "restore", na, "custom", fail, "lint", pass), 3},
		{"lint alone", tiers("lint", pass), 0},
		{"unknown result", tiers("install", v1alpha1.TierResultValue("weird")), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Level(tt.tiers); got != tt.want {
				t.Errorf("Level() = %d, want %d", got, tt.want)
			}
		})
	}
}
