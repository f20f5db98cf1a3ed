package swarmtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
)

// NamespaceLabel is the label docker stack deploy puts on every object of a stack.
const NamespaceLabel = "com.docker.stack.namespace"

// Probe images built by `make images` (scripts/build-images.sh).
const (
	ProbeV1 = "swarmrun-probe:1"
	ProbeV2 = "swarmrun-probe:2"
)

// RequireSwarm returns a client for the local swarm manager, or fails the test when there is
// none.
func RequireSwarm(t testing.TB) *client.Client {
	t.Helper()
	miss := func(format string, args ...any) {
		t.Helper()
		t.Fatal("real swarm required: " + fmt.Sprintf(format, args...) + " (run `make swarm` or scripts/swarm-up.sh)")
	}
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		miss("docker client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := c.Info(ctx)
	if err != nil {
		miss("docker engine not reachable: %v", err)
	}
	if info.Swarm.LocalNodeState != swarm.LocalNodeStateActive || !info.Swarm.ControlAvailable {
		miss("node is not a swarm manager (state %q)", info.Swarm.LocalNodeState)
	}
	return c
}

// RequireImages fails the test when an image is not present locally: tests use only images
// built by `make images`, never pulled ones.
func RequireImages(t testing.TB, c *client.Client, images ...string) {
	t.Helper()
	for _, img := range images {
		if _, err := c.ImageInspect(context.Background(), img); err != nil {
			t.Fatalf("image %s is not present locally (build it with `make images`): %v", img, err)
		}
	}
}

// StackName returns a stack name unique to this test run, starting with prefix (keep it short:
// swarm object names derived from it must stay under 63 characters), and registers a cleanup
// that removes every object of that stack.
func StackName(t testing.TB, c *client.Client, prefix string) string {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	name := "it-" + prefix + "-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := RemoveStack(ctx, c, name, true); err != nil {
			t.Errorf("cleanup of stack %s: %v", name, err)
		}
	})
	return name
}

// RemoveStack removes the objects labelled with the stack's namespace: services first, then
// (once their tasks are gone) networks, secrets, configs and, when volumes is set, volumes.
func RemoveStack(ctx context.Context, c *client.Client, stack string, volumes bool) error {
	f := filters.NewArgs(filters.Arg("label", NamespaceLabel+"="+stack))
	svcs, err := c.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	if err != nil {
		return err
	}
	var errs []string
	for _, s := range svcs {
		if err := c.ServiceRemove(ctx, s.ID); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, err.Error())
		}
	}
	if err := waitNoContainers(ctx, c, stack); err != nil {
		errs = append(errs, err.Error())
	}
	// The engine keeps the exited containers of removed job services (and their tasks, which
	// no API call removes): take the containers at least, so test runs do not pile them up.
	// Containers carry the namespace label only when the service's container spec does (docker
	// stack deploy sets it); the service name label is always there.
	selectors := []filters.Args{filters.NewArgs(filters.Arg("label", NamespaceLabel+"="+stack))}
	for _, s := range svcs {
		selectors = append(selectors, filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name="+s.Spec.Name)))
	}
	for _, sel := range selectors {
		sel.Add("status", "exited")
		ctrs, err := c.ContainerList(ctx, container.ListOptions{All: true, Filters: sel})
		if err != nil {
			continue
		}
		for _, ct := range ctrs {
			// The engine may be removing it itself already: that is as good as done.
			if err := c.ContainerRemove(ctx, ct.ID, container.RemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
				errs = append(errs, err.Error())
			}
		}
	}
	if nets, err := c.NetworkList(ctx, network.ListOptions{Filters: f}); err == nil {
		for _, n := range nets {
			if err := retryRemove(ctx, func() error { return c.NetworkRemove(ctx, n.ID) }); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if secs, err := c.SecretList(ctx, swarm.SecretListOptions{Filters: f}); err == nil {
		for _, s := range secs {
			if err := retryRemove(ctx, func() error { return c.SecretRemove(ctx, s.ID) }); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if cfgs, err := c.ConfigList(ctx, swarm.ConfigListOptions{Filters: f}); err == nil {
		for _, s := range cfgs {
			if err := retryRemove(ctx, func() error { return c.ConfigRemove(ctx, s.ID) }); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if volumes {
		if vols, err := c.VolumeList(ctx, volume.ListOptions{Filters: f}); err == nil {
			for _, v := range vols.Volumes {
				if err := retryRemove(ctx, func() error { return c.VolumeRemove(ctx, v.Name, false) }); err != nil {
					errs = append(errs, err.Error())
				}
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("remove stack %s: %s", stack, strings.Join(errs, "; "))
	}
	return nil
}

// waitNoContainers waits until no container of the stack remains on this node, so networks and
// volumes are free to go.
func waitNoContainers(ctx context.Context, c *client.Client, stack string) error {
	f := filters.NewArgs(filters.Arg("label", NamespaceLabel+"="+stack))
	for {
		tasks, err := c.TaskList(ctx, swarm.TaskListOptions{Filters: f})
		if err != nil {
			return err
		}
		live := 0
		for _, tk := range tasks {
			// A task that has not ended may still create its container, and with it the
			// stack's volumes, after they were listed for removal.
			switch tk.Status.State {
			case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed,
				swarm.TaskStateRejected, swarm.TaskStateOrphaned, swarm.TaskStateRemove:
			default:
				live++
			}
		}
		if live == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("tasks of stack %s still running: %w", stack, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// retryRemove retries a removal the engine refuses while the object is still in use (a network
// whose last container is going away), until ctx ends. A missing object counts as removed.
func retryRemove(ctx context.Context, remove func() error) error {
	for {
		err := remove()
		if err == nil || cerrdefs.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}
