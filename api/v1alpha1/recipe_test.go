package v1alpha1

import (
	"testing"
	"time"
)

func TestRecipeDefault(t *testing.T) {
	tests := []struct {
		name    string
		timeout *Duration
		want    time.Duration
	}{
		{"no timeout gets the default", nil, DefaultDeployTimeout},
		{"explicit timeout is kept", &Duration{Duration: time.Minute}, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Recipe{Spec: RecipeSpec{Timeouts: RecipeTimeouts{Deploy: tt.timeout}}}
			r.Default()
			if r.APIVersion != APIVersion || r.Kind != KindRecipe {
				t.Errorf("type meta = %+v", r.TypeMeta)
			}
			if r.Spec.Timeouts.Deploy == nil || r.Spec.Timeouts.Deploy.Duration != tt.want {
				t.Errorf("deploy timeout = %v, want %v", r.Spec.Timeouts.Deploy, tt.want)
			}
		})
	}
}

func TestDeployTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout *Duration
		want    time.Duration
	}{
		{"unset", nil, DefaultDeployTimeout},
		{"zero", &Duration{}, DefaultDeployTimeout},
		{"negative", &Duration{Duration: -time.Second}, DefaultDeployTimeout},
		{"set", &Duration{Duration: 3 * time.Minute}, 3 * time.Minute},
	}
	for _, tt := range tests {
		s := RecipeSpec{Timeouts: RecipeTimeouts{Deploy: tt.timeout}}
		if got := s.DeployTimeout(); got != tt.want {
			t.Errorf("%s: DeployTimeout() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNotApplicable(t *testing.T) {
	s := RecipeSpec{ExpectedNotApplicable: map[Stage]string{StageBackup: "no backup labels"}}
	if r, ok := s.NotApplicable(StageBackup); !ok || r != "no backup labels" {
		t.Errorf("NotApplicable(backup) = %q, %v", r, ok)
	}
	if _, ok := s.NotApplicable(StageRestore); ok {
		t.Error("NotApplicable(restore) = true for a stage not declared")
	}
}
