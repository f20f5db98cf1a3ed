package enginetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"
)

func systemCases() []testCase {
	return []testCase{
		{"InfoAndNodes", testInfoNodes},
		{"Images", testImages},
		{"Events", testEvents},
		{"ContainersAndExec", testContainersExec},
		{"ContainersOfOldTasks", testContainersOfOldTasks},
		{"ServiceLogs", testServiceLogs},
	}
}

func testInfoNodes(h *harness) {
	info, err := h.e.Info(h.t.Context())
	if err != nil {
		h.t.Fatalf("info: %v", err)
	}
	if info.Swarm.LocalNodeState != swarm.LocalNodeStateActive || !info.Swarm.ControlAvailable || info.Swarm.NodeID == "" {
		h.t.Errorf("not an active manager: %+v", info.Swarm)
	}
	if info.ServerVersion == "" {
		h.t.Errorf("no server version")
	}
	nodes, err := h.e.NodeList(h.t.Context(), swarm.NodeListOptions{})
	if err != nil {
		h.t.Fatalf("node list: %v", err)
	}
	var self *swarm.Node
	for i := range nodes {
		if nodes[i].ID == info.Swarm.NodeID {
			self = &nodes[i]
		}
	}
	if self == nil {
		h.t.Fatalf("node %s not listed: %+v", info.Swarm.NodeID, nodes)
	}
	if self.Spec.Role != swarm.NodeRoleManager || self.Spec.Availability != swarm.NodeAvailabilityActive ||
		self.Status.State != swarm.NodeStateReady || self.ManagerStatus == nil || self.Description.Hostname == "" {
		h.t.Errorf("node: %+v", self)
	}
	managers, err := h.e.NodeList(h.t.Context(), swarm.NodeListOptions{Filters: filters.NewArgs(filters.Arg("role", "manager"))})
	if err != nil || len(managers) == 0 {
		h.t.Errorf("managers: %v %d", err, len(managers))
	}
}

// testImages: a present image inspects; a missing one is not found; and with no registry the
// distribution lookup fails at once rather than hanging.
func testImages(h *harness) {
	img, err := h.e.ImageInspect(h.t.Context(), h.env.Image)
	if err != nil || img.ID == "" {
		h.t.Errorf("inspect present image: %v %q", err, img.ID)
	}
	if _, err := h.e.ImageInspect(h.t.Context(), h.env.MissingImage); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("inspect missing image: want not found, got %v", err)
	}
	ctx, cancel := context.WithTimeout(h.t.Context(), 20*time.Second)
	defer cancel()
	if _, err := h.e.DistributionInspect(ctx, h.env.MissingImage, ""); err == nil {
		h.t.Errorf("distribution inspect without a registry succeeded")
	}
}

// testEvents: a watcher is woken by service create, update and remove, and by the container
// start of the service's task, with the labels the engine sets.
func testEvents(h *harness) {
	ctx, cancel := context.WithCancel(h.t.Context())
	defer cancel()
	msgs, errs := h.e.Events(ctx, events.ListOptions{Filters: filters.NewArgs(
		filters.Arg("type", string(events.ServiceEventType)), filters.Arg("type", string(events.ContainerEventType)))})
	spec := h.spec("ev", h.env.Image)
	id := h.create(spec)
	await := func(what string, match func(events.Message) bool) events.Message {
		h.t.Helper()
		deadline := time.After(h.env.Timeout)
		for {
			select {
			case m := <-msgs:
				if match(m) {
					return m
				}
			case err := <-errs:
				h.t.Fatalf("event stream ended waiting for %s: %v", what, err)
			case <-deadline:
				h.t.Fatalf("no %s event after %s", what, h.env.Timeout)
			}
		}
	}
	m := await("service create", func(m events.Message) bool {
		return m.Type == events.ServiceEventType && m.Action == events.ActionCreate && m.Actor.ID == id
	})
	if m.Actor.Attributes["name"] != spec.Name || m.Scope != "swarm" || m.TimeNano == 0 {
		h.t.Errorf("service create event: %+v", m)
	}
	m = await("container start", func(m events.Message) bool {
		return m.Type == events.ContainerEventType && m.Action == events.ActionStart && m.Actor.Attributes["com.docker.swarm.service.id"] == id
	})
	a := m.Actor.Attributes
	if a["com.docker.swarm.service.name"] != spec.Name || a["com.docker.swarm.task.id"] == "" || a[NamespaceLabel] != h.ns || a["image"] != h.env.Image {
		h.t.Errorf("container start event attributes: %v", a)
	}
	s := h.inspect(id)
	s.Spec.TaskTemplate.ContainerSpec.Image = h.env.Image2
	h.update(s)
	m = await("service update", func(m events.Message) bool {
		return m.Type == events.ServiceEventType && m.Action == events.ActionUpdate && m.Actor.ID == id && m.Actor.Attributes["image.new"] != ""
	})
	if m.Actor.Attributes["image.old"] != h.env.Image || m.Actor.Attributes["image.new"] != h.env.Image2 {
		h.t.Errorf("service update event: %v", m.Actor.Attributes)
	}
	await("update state", func(m events.Message) bool {
		return m.Type == events.ServiceEventType && m.Actor.ID == id && m.Actor.Attributes["updatestate.new"] == string(swarm.UpdateStateUpdating)
	})
	await("container die", func(m events.Message) bool {
		return m.Type == events.ContainerEventType && m.Action == events.ActionDie && m.Actor.Attributes["com.docker.swarm.service.id"] == id && m.Actor.Attributes["exitCode"] != ""
	})
	if err := h.e.ServiceRemove(h.t.Context(), id); err != nil {
		h.t.Fatalf("remove: %v", err)
	}
	await("service remove", func(m events.Message) bool {
		return m.Type == events.ServiceEventType && m.Action == events.ActionRemove && m.Actor.ID == id
	})
	cancel()
	select {
	case err := <-errs:
		if err == nil {
			h.t.Errorf("event stream ended without an error")
		}
	case <-time.After(5 * time.Second):
		h.t.Errorf("event stream did not end after cancel")
	}
}

// testContainersExec: a running task's container is listed with the labels the engine sets;
// exec runs in it and reports the command's exit code.
func testContainersExec(h *harness) {
	spec := h.spec("exec", h.env.Image)
	id := h.create(spec)
	t := h.waitRunning(id, 1)[1]
	cs, err := h.e.ContainerList(h.t.Context(), container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.id="+id))})
	if err != nil || len(cs) != 1 {
		h.t.Fatalf("containers of the service: %v %+v", err, cs)
	}
	c := cs[0]
	l := c.Labels
	if c.ID != t.Status.ContainerStatus.ContainerID || c.State != container.StateRunning || l["com.docker.swarm.service.name"] != spec.Name ||
		l["com.docker.swarm.task.id"] != t.ID || l[NamespaceLabel] != h.ns || l["com.docker.swarm.node.id"] != t.NodeID {
		h.t.Errorf("container: %+v", c)
	}
	byStack, err := h.e.ContainerList(h.t.Context(), container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", NamespaceLabel+"="+h.ns))})
	if err != nil || len(byStack) != 1 {
		h.t.Errorf("containers by stack label: %v %d", err, len(byStack))
	}
	ex, err := h.e.ContainerExecCreate(h.t.Context(), c.ID, container.ExecOptions{Cmd: h.env.Exec, AttachStdout: true, AttachStderr: true})
	if err != nil || ex.ID == "" {
		h.t.Fatalf("exec create: %v", err)
	}
	hr, err := h.e.ContainerExecAttach(h.t.Context(), ex.ID, container.ExecAttachOptions{})
	if err != nil {
		h.t.Fatalf("exec attach: %v", err)
	}
	var out, stderr bytes.Buffer
	_, err = stdcopy.StdCopy(&out, &stderr, hr.Reader)
	hr.Close()
	if err != nil {
		h.t.Errorf("exec output: %v", err)
	}
	var ins container.ExecInspect
	h.eventually("exec finished", func() (bool, string) {
		ins, err = h.e.ContainerExecInspect(h.t.Context(), ex.ID)
		return err == nil && !ins.Running, errString(err)
	})
	if ins.ExitCode != h.env.ExecCode || ins.ContainerID != c.ID {
		h.t.Errorf("exec inspect: %+v, want exit %d", ins, h.env.ExecCode)
	}
	if _, err := h.e.ContainerExecCreate(h.t.Context(), h.name("nope"), container.ExecOptions{Cmd: h.env.Exec}); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("exec in a missing container: want not found, got %v", err)
	}
	if _, err := h.e.ContainerExecInspect(h.t.Context(), "nope"); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("inspect a missing exec: want not found, got %v", err)
	}
}

func testServiceLogs(h *harness) {
	id := h.create(h.spec("logs", h.env.Image))
	h.waitRunning(id, 1)
	rc, err := h.e.ServiceLogs(h.t.Context(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		h.t.Fatalf("logs: %v", err)
	}
	if _, err := stdcopy.StdCopy(io.Discard, io.Discard, rc); err != nil {
		h.t.Errorf("read logs: %v", err)
	}
	_ = rc.Close()
	if _, err := h.e.ServiceLogs(h.t.Context(), h.name("nope"), container.LogsOptions{ShowStdout: true}); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("logs of a missing service: want not found, got %v", err)
	}
}

// testContainersOfOldTasks: the container of a replaced task stays, exited, until the swarm
// drops the task from its history; only All lists it, and it takes no exec.
func testContainersOfOldTasks(h *harness) {
	spec := h.spec("old", h.env.Image)
	spec.UpdateConfig = &swarm.UpdateConfig{Monitor: 500 * time.Millisecond}
	id := h.create(spec)
	old := h.waitRunning(id, 1)[1]
	s := h.inspect(id)
	s.Spec.TaskTemplate.ContainerSpec.Image = h.env.Image2
	h.update(s)
	h.eventually("old container exited", func() (bool, string) {
		cs, err := h.e.ContainerList(h.t.Context(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.id="+id))})
		if err != nil {
			return false, err.Error()
		}
		states := map[string]string{}
		for _, c := range cs {
			states[c.Labels["com.docker.swarm.task.id"]] = string(c.State)
		}
		return len(cs) == 2 && states[old.ID] == container.StateExited, fmt.Sprintf("%v", states)
	})
	h.eventually("only the new container running", func() (bool, string) {
		running, err := h.e.ContainerList(h.t.Context(), container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.id="+id))})
		if err != nil {
			return false, err.Error()
		}
		return len(running) == 1 && running[0].Labels["com.docker.swarm.task.id"] != old.ID, fmt.Sprintf("%+v", running)
	})
	if _, err := h.e.ContainerExecCreate(h.t.Context(), old.Status.ContainerStatus.ContainerID, container.ExecOptions{Cmd: h.env.Exec}); !cerrdefs.IsConflict(err) {
		h.t.Errorf("exec in an exited container: want conflict, got %v", err)
	}
}
