package v1alpha1

import (
	"reflect"
	"testing"
	"time"
)

func TestTestRunDefault(t *testing.T) {
	tests := []struct {
		name string
		in   TestRunSpec
		want TestRunSpec
	}{
		{
			name: "empty spec gets every default",
			in:   TestRunSpec{Recipe: "app"},
			want: TestRunSpec{
				Recipe:   "app",
				Stages:   Stages(),
				Teardown: TeardownAlways,
				Timeout:  &Duration{Duration: DefaultRunTimeout},
			},
		},
		{
			name: "explicit values are kept",
			in: TestRunSpec{
				Recipe:   "app",
				Stages:   []Stage{StageInstall},
				Teardown: TeardownNever,
				Timeout:  &Duration{Duration: time.Minute},
			},
			want: TestRunSpec{
				Recipe:   "app",
				Stages:   []Stage{StageInstall},
				Teardown: TeardownNever,
				Timeout:  &Duration{Duration: time.Minute},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &TestRun{Spec: tt.in}
			r.Default()
			if r.APIVersion != APIVersion || r.Kind != KindTestRun {
				t.Errorf("type meta = %+v", r.TypeMeta)
			}
			if !reflect.DeepEqual(r.Spec, tt.want) {
				t.Errorf("spec = %+v, want %+v", r.Spec, tt.want)
			}
		})
	}
}

func TestTestRunDefaultStagesAreOwned(t *testing.T) {
	r := &TestRun{}
	r.Default()
	r.Spec.Stages[0] = "changed"
	if Stages()[0] != StageInstall {
		t.Error("changing a defaulted TestRun's stages changed the package's stages")
	}
}

func TestStageKnown(t *testing.T) {
	for _, s := range Stages() {
		if !s.Known() {
			t.Errorf("stage %q not known", s)
		}
	}
	for _, s := range []Stage{"", "instal", "Install", TierLint} {
		if s.Known() {
			t.Errorf("stage %q known", s)
		}
	}
}

func TestTeardownPolicyKnown(t *testing.T) {
	for _, p := range TeardownPolicies() {
		if !p.Known() {
			t.Errorf("policy %q not known", p)
		}
	}
	for _, p := range []TeardownPolicy{"", "always", "Sometimes"} {
		if p.Known() {
			t.Errorf("policy %q known", p)
		}
	}
}

func TestHasStage(t *testing.T) {
	s := TestRunSpec{Stages: []Stage{StageInstall, StageBackup}}
	tests := []struct {
		stage Stage
		want  bool
	}{{StageInstall, true}, {StageBackup, true}, {StageUpgrade, false}}
	for _, tt := range tests {
		if got := s.HasStage(tt.stage); got != tt.want {
			t.Errorf("HasStage(%q) = %v, want %v", tt.stage, got, tt.want)
		}
	}
}
