package reconcile

import (
	"slices"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/stack"
)

// headRender is the head of the verify tests as swarmrun sees a render: app on probe 2,
// version label 0.2.0+2.
func headRender(t *testing.T, name string) *stack.Prepared {
	t.Helper()
	return &stack.Prepared{Stack: name, Role: roleHead, Services: map[string]stack.Service{
		name + "_app": {Name: name + "_app", Image: probe2, Labels: map[string]string{
			"coop-cloud." + name + ".version": "0.2.0+2", "coop-cloud." + name + ".chaos-version": "abcdef12"}},
	}}
}

func TestVerifyHead(t *testing.T) {
	const stack = "st"
	good := func() (*v1alpha1.TestRun, *deploy.StackState, *converge.Report) {
		tr := &v1alpha1.TestRun{Status: v1alpha1.TestRunStatus{
			Stack:   stack,
			Base:    &v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.1.0+1"},
			Head:    &v1alpha1.HeadStatus{Commit: "abcdef1234567890", ChaosVersion: "abcdef12"},
			Deploys: []v1alpha1.DeployRecord{{Role: roleBase}, {Role: roleHead}},
		}}
		state := &deploy.StackState{Name: stack, Services: []deploy.ServiceState{{
			Name: "st_app", Image: probe2 + "@sha256:1234", ComposeImage: probe2,
			Labels: map[string]string{"coop-cloud.st.version": "0.2.0+2", "coop-cloud.st.chaos-version": "abcdef12"},
		}, {
			Name: "st_check-x", Image: probe1, Labels: map[string]string{v1alpha1.LabelRole: v1alpha1.RoleCheck},
		}}}
		report := &converge.Report{Services: []converge.ServiceReport{{Name: "st_app",
			Tasks: []converge.TaskSummary{{ID: "t1", Image: probe2, State: "running", UpToDate: true}}}}}
		return tr, state, report
	}
	tests := []struct {
		name   string
		mutate func(*v1alpha1.TestRun, *deploy.StackState, *converge.Report)
		fail   string // the failing check, "" for none
	}{
		{"all good", func(*v1alpha1.TestRun, *deploy.StackState, *converge.Report) {}, ""},
		{"label image of the base", func(_ *v1alpha1.TestRun, s *deploy.StackState, _ *converge.Report) {
			s.Services[0].ComposeImage = probe1
		}, "verify: head images"},
		{"spec image of the base", func(_ *v1alpha1.TestRun, s *deploy.StackState, _ *converge.Report) {
			s.Services[0].Image = probe1
		}, "verify: head images"},
		{"task still on the base image", func(_ *v1alpha1.TestRun, _ *deploy.StackState, r *converge.Report) {
			r.Services[0].Tasks[0].Image = probe1
		}, "verify: head images"},
		{"dropped service still runs", func(_ *v1alpha1.TestRun, s *deploy.StackState, _ *converge.Report) {
			s.Services = append(s.Services, deploy.ServiceState{Name: "st_sidekiq", Image: probe1, ComposeImage: probe1})
		}, "verify: service set"},
		{"declared service missing", func(_ *v1alpha1.TestRun, s *deploy.StackState, _ *converge.Report) {
			s.Services = s.Services[1:]
		}, "verify: service set"},
		{"version label of the base", func(_ *v1alpha1.TestRun, s *deploy.StackState, _ *converge.Report) {
			s.Services[0].Labels["coop-cloud.st.version"] = "0.1.0+1"
		}, "verify: labels"},
		{"chaos-version of another commit", func(_ *v1alpha1.TestRun, s *deploy.StackState, _ *converge.Report) {
			s.Services[0].Labels["coop-cloud.st.chaos-version"] = "0badc0de"
		}, "verify: labels"},
		{"head deployed twice", func(tr *v1alpha1.TestRun, _ *deploy.StackState, _ *converge.Report) {
			tr.Status.Deploys = append(tr.Status.Deploys, v1alpha1.DeployRecord{Role: roleHead})
		}, "verify: one rollout per phase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, state, report := good()
			tt.mutate(tr, state, report)
			res := verifyHead(tr, headRender(t, stack), state, report, "app")
			var failed []string
			for _, c := range res {
				if c.Result == v1alpha1.ResultFailed {
					failed = append(failed, c.Name)
				}
			}
			want := ""
			if len(failed) > 0 {
				want = strings.Join(failed, ",")
			}
			if want != tt.fail {
				t.Errorf("failed checks = %q, want %q (%+v)", want, tt.fail, res)
			}
		})
	}
}

func TestDropped(t *testing.T) {
	head := headRender(t, "st")
	tests := []struct {
		name    string
		deploys []v1alpha1.DeployRecord
		want    []string
	}{
		{"no base", nil, nil},
		{"base had sidekiq", []v1alpha1.DeployRecord{{Role: roleBase, Images: []v1alpha1.ImageRecord{
			{Service: "st_app", Image: probe1}, {Service: "st_sidekiq", Image: probe1}}}}, []string{"st_sidekiq"}},
		{"same services", []v1alpha1.DeployRecord{{Role: roleBase, Images: []v1alpha1.ImageRecord{{Service: "st_app"}}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &v1alpha1.TestRun{Status: v1alpha1.TestRunStatus{Deploys: tt.deploys}}
			if got := dropped(tr, head); !slices.Equal(got, tt.want) {
				t.Errorf("dropped = %v, want %v", got, tt.want)
			}
		})
	}
}
