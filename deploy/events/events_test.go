package events

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/fake"
)

const label = "swarmrun.dev/testrun"

func service(name string, labels map[string]string) swarm.ServiceSpec {
	return swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: name, Labels: labels},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "swarmrun-probe:1"}},
	}
}

// watch runs Watch on f and returns the label values it reports.
func watch(t *testing.T, f *fake.Fake) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan string, 100)
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, Options{Engine: f, Label: label, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond},
			func(l map[string]string) { got <- l[label] })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch returned %v after cancel", err)
		}
	})
	return got
}

func waitFor(t *testing.T, got <-chan string, want string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case v := <-got:
			if v == want {
				return
			}
			if v != "tr1" && v != "tr2" {
				t.Fatalf("reported %q: only labelled services may be reported", v)
			}
		case <-deadline:
			t.Fatalf("no event for %s", want)
		}
	}
}

func TestWatchReportsLabelledServices(t *testing.T) {
	f := fake.New(fake.Options{Images: []string{"swarmrun-probe:1"}})
	got := watch(t, f)
	// The subscription may start after the first create: create until an event is seen.
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; ; i++ {
		if _, err := f.ServiceCreate(t.Context(), service(fmt.Sprintf("plain-%d", i), nil), swarm.ServiceCreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ServiceCreate(t.Context(), service(fmt.Sprintf("run-%d", i), map[string]string{label: "tr1"}), swarm.ServiceCreateOptions{}); err != nil {
			t.Fatal(err)
		}
		select {
		case v := <-got:
			if v != "tr1" {
				t.Fatalf("reported %q, want tr1", v)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no event reported")
		}
	}
}

func TestWatchResubscribesAfterError(t *testing.T) {
	f := fake.New(fake.Options{Images: []string{"swarmrun-probe:1"}})
	f.FailNext("Events", errors.New("connection reset"))
	f.FailNext("Events", errors.New("connection reset"))
	got := watch(t, f)
	deadline := time.Now().Add(5 * time.Second)
	for f.Calls("Events") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("Events called %d times, want a third subscription", f.Calls("Events"))
		}
		time.Sleep(time.Millisecond)
	}
	resp, err := f.ServiceCreate(t.Context(), service("run2", map[string]string{label: "tr2"}), swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, got, "tr2")
	// A container event of the same service maps through the remembered service labels.
	if err := f.ServiceRemove(t.Context(), resp.ID); err != nil {
		t.Fatal(err)
	}
}
