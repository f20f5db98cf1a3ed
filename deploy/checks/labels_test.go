package checks_test

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/checks"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/internal/mask"
)

// createSpy records the labels of every service created through it and refuses the create,
// so that a check ends right there.
type createSpy struct {
	deploy.Engine
	mu     sync.Mutex
	labels []map[string]string
}

func (s *createSpy) ServiceCreate(_ context.Context, spec swarm.ServiceSpec, _ swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.labels = append(s.labels, maps.Clone(spec.Labels))
	return swarm.ServiceCreateResponse{}, errors.New("refused by the test")
}

func TestWithLabels(t *testing.T) {
	spy := &createSpy{Engine: fake.New(fake.Options{})}
	base := checks.New(checks.Options{Engine: spy, Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}})
	job := v1alpha1.Check{Name: "j", Job: &v1alpha1.JobCheck{Image: "swarmrun-probe:1"}}

	base.WithLabels(map[string]string{v1alpha1.LabelTestRun: "run-a"}).Run(t.Context(), "st", job, mask.New())
	base.Run(t.Context(), "st", job, mask.New())

	if len(spy.labels) != 2 {
		t.Fatalf("%d services created, want 2", len(spy.labels))
	}
	want := map[string]string{deploy.LabelNamespace: "st", v1alpha1.LabelRole: v1alpha1.RoleCheck,
		v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelTestRun: "run-a"}
	if !maps.Equal(spy.labels[0], want) {
		t.Errorf("labelled runner: labels %v, want %v", spy.labels[0], want)
	}
	delete(want, v1alpha1.LabelTestRun)
	if !maps.Equal(spy.labels[1], want) {
		t.Errorf("base runner after WithLabels: labels %v, want %v (WithLabels must not change it)", spy.labels[1], want)
	}
}
