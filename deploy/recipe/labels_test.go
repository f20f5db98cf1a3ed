package recipe

import (
	"maps"
	"testing"
)

func TestAppLabels(t *testing.T) {
	const commit = "ae5a8180c0ffee11223344556677889900aabbcc"
	tests := []struct {
		name string
		in   AppDeploy
		want map[string]string
	}{
		{
			name: "release deploy",
			in:   AppDeploy{Stack: "disc-pr4-8f3a1c", Recipe: "discourse", Version: "0.7.0+3.3.1", Commit: commit},
			want: map[string]string{
				"coop-cloud.disc-pr4-8f3a1c.version": "0.7.0+3.3.1",
				"coop-cloud.disc-pr4-8f3a1c.recipe":  "discourse",
				"coop-cloud.disc-pr4-8f3a1c.chaos":   "false",
			},
		},
		{
			name: "chaos deploy keeps the compose version",
			in:   AppDeploy{Stack: "disc-pr4-8f3a1c", Recipe: "discourse", Version: "1.0.0+3.5.3", Commit: commit, Chaos: true},
			want: map[string]string{
				"coop-cloud.disc-pr4-8f3a1c.recipe":        "discourse",
				"coop-cloud.disc-pr4-8f3a1c.chaos":         "true",
				"coop-cloud.disc-pr4-8f3a1c.chaos-version": "ae5a8180",
			},
		},
		{
			name: "dirty chaos deploy",
			in:   AppDeploy{Stack: "s", Recipe: "r", Commit: commit, Dirty: true, Chaos: true},
			want: map[string]string{
				"coop-cloud.s.recipe":        "r",
				"coop-cloud.s.chaos":         "true",
				"coop-cloud.s.chaos-version": "ae5a8180+U",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppLabels(tt.in); !maps.Equal(got, tt.want) {
				t.Errorf("AppLabels() = %v, want %v", got, tt.want)
			}
		})
	}
	if k := LabelVersion("s"); k != "coop-cloud.s.version" {
		t.Errorf("LabelVersion = %q", k)
	}
}
