package v1alpha1

import (
	"testing"
	"time"
)

func TestRepositoryDefault(t *testing.T) {
	r := &Repository{}
	r.Default()
	if r.APIVersion != APIVersion || r.Kind != KindRepository {
		t.Errorf("type meta = %+v", r.TypeMeta)
	}
	if r.Spec.Trigger.Phrase != DefaultTriggerPhrase {
		t.Errorf("phrase = %q, want %q", r.Spec.Trigger.Phrase, DefaultTriggerPhrase)
	}
	r.Spec.Trigger.Phrase = "/test"
	r.Default()
	if r.Spec.Trigger.Phrase != "/test" {
		t.Errorf("an explicit phrase became %q", r.Spec.Trigger.Phrase)
	}
}

func TestRepositoryPoll(t *testing.T) {
	tests := []struct {
		in   *Duration
		want time.Duration
	}{
		{nil, 0},
		{&Duration{}, 0},
		{&Duration{Duration: -time.Second}, 0},
		{&Duration{Duration: time.Minute}, time.Minute},
	}
	for _, tt := range tests {
		s := RepositorySpec{PollInterval: tt.in}
		if got := s.Poll(); got != tt.want {
			t.Errorf("Poll() with %v = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRepositoryStatusPullRequest(t *testing.T) {
	s := RepositoryStatus{PullRequests: []PullRequestRecord{{Number: 3}, {Number: 7}}}
	p := s.PullRequest(7)
	if p == nil || p.Number != 7 {
		t.Fatalf("PullRequest(7) = %+v", p)
	}
	p.TestRun = "demo-pr7"
	if s.PullRequests[1].TestRun != "demo-pr7" {
		t.Error("PullRequest returned a copy, not the record in the status")
	}
	if s.PullRequest(4) != nil {
		t.Error("PullRequest(4) found a record that is not there")
	}
}

func TestForgeKinds(t *testing.T) {
	for _, k := range ForgeKinds() {
		if !k.Known() {
			t.Errorf("%q is listed but not known", k)
		}
	}
	if ForgeKind("github").Known() || ForgeKind("").Known() {
		t.Error("an unsupported forge kind is known")
	}
}
