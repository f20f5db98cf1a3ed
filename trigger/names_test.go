package trigger_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/spec"
	"github.com/swarmrun/swarmrun/trigger"
)

func TestRunName(t *testing.T) {
	tests := []struct {
		recipe string
		n      int64
		want   string
	}{
		{"discourse", 4, "discourse-pr4"},
		{strings.Repeat("a", 40), 12345, strings.Repeat("a", 32) + "-pr12345"},
		{strings.Repeat("a", 30) + "-b-" + "cccccc", 1234567, strings.Repeat("a", 30) + "-pr1234567"},
	}
	for _, tt := range tests {
		got := trigger.RunName(tt.recipe, tt.n)
		if got != tt.want {
			t.Errorf("RunName(%q, %d) = %q, want %q", tt.recipe, tt.n, got, tt.want)
		}
		tr := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: got}, Spec: v1alpha1.TestRunSpec{Recipe: "r"}}
		if p := spec.Validate(tr); len(p) > 0 {
			t.Errorf("RunName(%q, %d) = %q is not a valid name: %v", tt.recipe, tt.n, got, p)
		}
	}
}

func TestAsks(t *testing.T) {
	tests := []struct {
		body, phrase string
		want         bool
	}{
		{"!testme", "!testme", true},
		{"  !testme  ", "!testme", true},
		{"Thanks!\r\n!testme with the new base\r\n", "!testme", true},
		{"!testme\tplease", "!testme", true},
		{"!testmeplease", "!testme", false},
		{"please !testme", "!testme", false},
		{"> !testme", "!testme", false},
		{"`!testme`", "!testme", false},
		{"/swarmrun test", "/swarmrun test", true},
		{"/swarmrun tests", "/swarmrun test", false},
		{"!testme", "", false},
	}
	for _, tt := range tests {
		if got := trigger.Asks(tt.body, tt.phrase); got != tt.want {
			t.Errorf("Asks(%q, %q) = %v, want %v", tt.body, tt.phrase, got, tt.want)
		}
	}
}

func TestWakes(t *testing.T) {
	repo := func(gen int64, pending ...v1alpha1.PendingComment) *v1alpha1.Repository {
		return &v1alpha1.Repository{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo", Generation: gen}, Status: v1alpha1.RepositoryStatus{Pending: pending}}
	}
	run := func(labelled bool, succeeded string, deleting bool) *v1alpha1.TestRun {
		tr := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo-pr4", Generation: 1}}
		if labelled {
			tr.Labels = map[string]string{v1alpha1.LabelRepository: "demo"}
		}
		if succeeded != "" {
			tr.Status.Conditions = []v1alpha1.Condition{{Type: v1alpha1.ConditionSucceeded, Status: metav1.ConditionStatus(succeeded)}}
		}
		if deleting {
			now := time.Now()
			tr.DeletionTimestamp = &now
		}
		return tr
	}
	p := v1alpha1.PendingComment{ID: 7, PullRequest: 4}
	wake := []controller.Request{{Kind: v1alpha1.KindRepository, Name: "demo"}}
	tests := []struct {
		name string
		c    controller.Change
		want []controller.Request
	}{
		{"repository listed", controller.Change{New: repo(1), Listed: true}, wake},
		{"repository spec changed", controller.Change{Old: repo(1), New: repo(2)}, wake},
		{"a comment became pending", controller.Change{Old: repo(1), New: repo(1, p)}, wake},
		{"the controller's own status write", controller.Change{Old: repo(1, p), New: repo(1)}, nil},
		{"a run of the repository is created", controller.Change{New: run(true, "", false)}, wake},
		{"a run reaches its verdict", controller.Change{Old: run(true, "Unknown", false), New: run(true, "False", false)}, wake},
		{"a run steps on", controller.Change{Old: run(true, "Unknown", false), New: run(true, "Unknown", false)}, nil},
		{"a run is being deleted", controller.Change{Old: run(true, "True", false), New: run(true, "True", true)}, wake},
		{"a run is gone", controller.Change{Old: run(true, "True", true), New: run(true, "True", true), Deleted: true}, wake},
		{"an operator's run", controller.Change{New: run(false, "True", false)}, nil},
	}
	for _, tt := range tests {
		got, err := trigger.Wakes(t.Context(), tt.c)
		if err != nil || len(got) != len(tt.want) || (len(got) == 1 && got[0] != tt.want[0]) {
			t.Errorf("%s: Wakes = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}
