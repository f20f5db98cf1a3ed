//go:build integration

package events

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// The real engine's service and task container events map to the service's labels.
func TestWatchRealSwarm(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1)
	stack := swarmtest.StackName(t, c, "events")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan map[string]string, 100)
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, Options{Engine: c, Label: label}, func(l map[string]string) { got <- l })
	}()
	spec := service(stack+"_app", map[string]string{label: stack, swarmtest.NamespaceLabel: stack})
	spec.TaskTemplate.ContainerSpec.Args = []string{"-sleep", "0"}
	spec.TaskTemplate.ContainerSpec.Labels = map[string]string{swarmtest.NamespaceLabel: stack}
	// The subscription starts asynchronously: the task container's start comes later anyway.
	if _, err := c.ServiceCreate(t.Context(), spec, swarm.ServiceCreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l := <-got:
			if l[label] == "" {
				t.Fatalf("reported labels %v without the label", l)
			}
			if l[label] != stack {
				continue // another test's run on the shared swarm
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Watch: %v", err)
			}
			return
		case <-deadline:
			t.Fatal("no event of the labelled service")
		}
	}
}
