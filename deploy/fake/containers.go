package fake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"
)

// containerObj is the container of a started task, or one made by ContainerCreate (which
// the fake never starts).
type containerObj struct {
	id      string
	name    string
	image   string
	labels  map[string]string
	created time.Time
	running bool
	exit    int
	// standalone is a container of ContainerCreate, not of a task.
	standalone bool
	// mounts are the container's mounts; rootfs its own files beneath them.
	mounts []mount.Mount
	rootfs *fileTree
}

// ExecResult is what an exec in a task container answers.
type ExecResult struct {
	ExitCode int
	Stdout   string
	Stderr   string
}

// execObj is an exec instance: created, then run by attach.
type execObj struct {
	id          string
	containerID string
	cmd         []string
	tty         bool
	ran         bool
	result      ExecResult
}

// CrashImage makes the tasks of image ref exit with exitCode once they run, as a crashing
// program does ("task: non-zero exit (N)"); exit code 0 makes them complete instead. Tasks
// already running crash at the next step.
func (f *Fake) CrashImage(ref string, exitCode int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.crashImage[imageKey(ref)] = exitCode
	f.stirAll()
}

// CrashService makes the tasks of the service with this name crash like CrashImage.
func (f *Fake) CrashService(name string, exitCode int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.crashService[name] = exitCode
	f.stirAll()
}

// CrashWhen makes the tasks for which fn reports true crash like CrashImage, with the exit
// code it returns: e.g. tasks whose arguments ask the program to fail. fn runs with the fake's
// lock held and must not call the fake.
func (f *Fake) CrashWhen(fn func(service string, spec swarm.TaskSpec) (exitCode int, crash bool)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.crashFn = fn
	f.stirAll()
}

// NeverHealthy makes the healthcheck of the named service's tasks fail: they stay starting for
// the healthcheck's start period plus interval × retries, then the engine stops them, which
// Engine 20.10 records as an ordinary exit (complete, exit code 0, a health_status: unhealthy
// event before it). Tasks without a healthcheck run regardless, as on the engine.
func (f *Fake) NeverHealthy(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unhealthy[name] = true
	f.stirAll()
}

// SetExec decides the result of every exec; by default an exec exits 0 with no output.
func (f *Fake) SetExec(fn func(containerID string, cmd []string) ExecResult) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.execFn = fn
}

// SetLogs sets what ServiceLogs returns for the service with this name (stdout).
func (f *Fake) SetLogs(name, text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs[name] = text
}

// startContainer creates and starts the task's container, creating the named volumes its
// mounts need, as the engine's executor does.
func (f *Fake) startContainer(t *task) {
	now := f.clock()
	cs := t.t.Spec.ContainerSpec
	labels := map[string]string{}
	for k, v := range cs.Labels {
		labels[k] = v
	}
	name := f.taskName(t)
	labels["com.docker.swarm.node.id"] = f.node.ID
	labels["com.docker.swarm.service.id"] = t.svc.s.ID
	labels["com.docker.swarm.service.name"] = t.svc.s.Spec.Name
	labels["com.docker.swarm.task"] = ""
	labels["com.docker.swarm.task.id"] = t.t.ID
	labels["com.docker.swarm.task.name"] = name
	c := &containerObj{id: f.newHexID(), name: name, image: cs.Image, labels: labels, created: now, running: true,
		mounts: clone(cs.Mounts), rootfs: f.newRootfs(cs.Image, cs.Mounts)}
	t.container = c
	for _, m := range cs.Mounts {
		if m.Type == mount.TypeVolume && m.Source != "" {
			f.ensureVolume(m)
		}
	}
	t.t.Status.ContainerStatus = &swarm.ContainerStatus{ContainerID: c.id, PID: 1000 + int(f.seq%30000)}
	f.emitContainer(t, "create", nil)
	f.emitContainer(t, "start", nil)
}

// stopContainer ends the task's container, if it runs, with exit code code: the program
// exited by itself, or (killed) the engine stopped it with SIGTERM, as it emits kill, die and
// stop then.
func (f *Fake) stopContainer(t *task, code int, killed bool) {
	c := t.container
	if c == nil || !c.running {
		return
	}
	c.running, c.exit = false, code
	if t.t.Status.ContainerStatus != nil {
		t.t.Status.ContainerStatus.PID = 0
		t.t.Status.ContainerStatus.ExitCode = code
	}
	if killed {
		f.emitContainer(t, events.ActionKill, map[string]string{"signal": "15"})
	}
	f.emitContainer(t, events.ActionDie, map[string]string{"exitCode": fmt.Sprint(code)})
	if killed {
		f.emitContainer(t, events.ActionStop, nil)
	}
}

// removeContainer deletes the container of a task that leaves the store, and its execs, as
// the engine forgets them with the container.
func (f *Fake) removeContainer(t *task) {
	if t.container == nil {
		return
	}
	f.emitContainer(t, "destroy", nil)
	for id, e := range f.execs {
		if e.containerID == t.container.id {
			delete(f.execs, id)
		}
	}
	t.container = nil
}

func (f *Fake) emitContainer(t *task, action events.Action, extra map[string]string) {
	c := t.container
	attrs := map[string]string{"image": t.t.Spec.ContainerSpec.Image, "name": c.name}
	for k, v := range c.labels {
		attrs[k] = v
	}
	for k, v := range extra {
		attrs[k] = v
	}
	f.emit("container", action, c.id, attrs, "local")
}

// ContainerList lists task containers: running ones, or all with All. Containers of tasks
// the swarm has dropped from its history are gone.
func (f *Fake) ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error) {
	if err := f.enter(ctx, "ContainerList", options); err != nil {
		return nil, err
	}
	if err := validateFilters(options.Filters, "label", "name", "id", "status"); err != nil {
		return nil, err
	}
	f.lock()
	defer f.unlock()
	var out []container.Summary
	f.eachTask(func(t *task) {
		c := t.container
		if c == nil || (!c.running && !options.All) {
			return
		}
		state, status := container.StateRunning, "Up"
		if !c.running {
			state, status = container.StateExited, fmt.Sprintf("Exited (%d)", c.exit)
		}
		if !options.Filters.MatchKVList("label", c.labels) || !matchPrefix(options.Filters, "id", c.id) ||
			(options.Filters.Contains("name") && !matchSubstring(options.Filters.Get("name"), c.name)) ||
			(options.Filters.Contains("status") && !options.Filters.ExactMatch("status", string(state))) {
			return
		}
		out = append(out, container.Summary{
			ID: c.id, Names: []string{"/" + c.name}, Image: t.t.Spec.ContainerSpec.Image,
			Command: strings.Join(append(append([]string{}, t.t.Spec.ContainerSpec.Command...), t.t.Spec.ContainerSpec.Args...), " "),
			Created: c.created.Unix(), Labels: clone(c.labels), State: state, Status: status,
		})
	})
	for _, id := range sortedKeys(f.standalone) {
		c := f.standalone[id]
		if !options.All || !options.Filters.MatchKVList("label", c.labels) || !matchPrefix(options.Filters, "id", c.id) ||
			(options.Filters.Contains("name") && !matchSubstring(options.Filters.Get("name"), c.name)) ||
			(options.Filters.Contains("status") && !options.Filters.ExactMatch("status", string(container.StateCreated))) {
			continue
		}
		out = append(out, container.Summary{ID: c.id, Names: []string{"/" + c.name}, Image: c.image,
			Created: c.created.Unix(), Labels: clone(c.labels), State: container.StateCreated, Status: "Created"})
	}
	return out, nil
}

// ContainerExecCreate creates an exec in a running task container.
func (f *Fake) ContainerExecCreate(ctx context.Context, containerID string, options container.ExecOptions) (container.ExecCreateResponse, error) {
	if err := f.enter(ctx, "ContainerExecCreate", containerID, options); err != nil {
		return container.ExecCreateResponse{}, err
	}
	f.lock()
	defer f.unlock()
	c := f.findContainer(containerID)
	if c == nil {
		return container.ExecCreateResponse{}, errNotFound("No such container: %s", containerID)
	}
	if !c.running {
		return container.ExecCreateResponse{}, errConflict("Container %s is not running", c.id)
	}
	e := &execObj{id: f.newHexID(), containerID: c.id, cmd: append([]string(nil), options.Cmd...), tty: options.Tty}
	f.execs[e.id] = e
	return container.ExecCreateResponse{ID: e.id}, nil
}

// ContainerExecAttach runs the exec and returns its output, multiplexed as the engine sends
// it without a TTY.
func (f *Fake) ContainerExecAttach(ctx context.Context, execID string, config container.ExecAttachOptions) (types.HijackedResponse, error) {
	if err := f.enter(ctx, "ContainerExecAttach", execID, config); err != nil {
		return types.HijackedResponse{}, err
	}
	f.lock()
	e, ok := f.execs[execID]
	fn := f.execFn
	f.unlock()
	if !ok {
		return types.HijackedResponse{}, errNotFound("No such exec instance: %s", execID)
	}
	res := ExecResult{}
	if fn != nil {
		res = fn(e.containerID, e.cmd)
	}
	f.mu.Lock()
	e.ran, e.result = true, res
	f.mu.Unlock()
	var buf bytes.Buffer
	if e.tty || config.Tty {
		buf.WriteString(res.Stdout + res.Stderr)
	} else {
		if res.Stdout != "" {
			_, _ = stdcopy.NewStdWriter(&buf, stdcopy.Stdout).Write([]byte(res.Stdout))
		}
		if res.Stderr != "" {
			_, _ = stdcopy.NewStdWriter(&buf, stdcopy.Stderr).Write([]byte(res.Stderr))
		}
	}
	// Engine 20.10 (API 1.41) labels the stream raw even when it is multiplexed.
	return types.NewHijackedResponse(&execConn{r: bytes.NewReader(buf.Bytes())}, "application/vnd.docker.raw-stream"), nil
}

// ContainerExecInspect reports an exec's state: finished with its exit code once attached.
func (f *Fake) ContainerExecInspect(ctx context.Context, execID string) (container.ExecInspect, error) {
	if err := f.enter(ctx, "ContainerExecInspect", execID); err != nil {
		return container.ExecInspect{}, err
	}
	f.lock()
	defer f.unlock()
	e, ok := f.execs[execID]
	if !ok {
		return container.ExecInspect{}, errNotFound("No such exec instance: %s", execID)
	}
	return container.ExecInspect{ExecID: e.id, ContainerID: e.containerID, Running: false, ExitCode: e.result.ExitCode}, nil
}

// ServiceLogs returns the text set with SetLogs, multiplexed as stdout.
func (f *Fake) ServiceLogs(ctx context.Context, serviceID string, options container.LogsOptions) (io.ReadCloser, error) {
	if err := f.enter(ctx, "ServiceLogs", serviceID, options); err != nil {
		return nil, err
	}
	f.lock()
	defer f.unlock()
	s, err := f.findService(serviceID)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if text := f.logs[s.s.Spec.Name]; text != "" && options.ShowStdout {
		_, _ = stdcopy.NewStdWriter(&buf, stdcopy.Stdout).Write([]byte(text))
	}
	return io.NopCloser(&buf), nil
}

// findContainer resolves a container ID, unique ID prefix or name.
func (f *Fake) findContainer(ref string) *containerObj {
	var found *containerObj
	match := func(c *containerObj) {
		if found == nil && c != nil && (c.id == ref || strings.TrimPrefix(ref, "/") == c.name || (len(ref) >= 4 && strings.HasPrefix(c.id, ref))) {
			found = c
		}
	}
	f.eachTask(func(t *task) { match(t.container) })
	for _, id := range sortedKeys(f.standalone) {
		match(f.standalone[id])
	}
	return found
}

// matchSubstring is the engine's name filter for containers and local objects: a substring.
func matchSubstring(values []string, s string) bool {
	for _, v := range values {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// execConn stands in for the hijacked connection of an exec: it reads the finished output and
// discards input.
type execConn struct{ r *bytes.Reader }

func (c *execConn) Read(b []byte) (int, error)       { return c.r.Read(b) }
func (c *execConn) Write(b []byte) (int, error)      { return len(b), nil }
func (c *execConn) Close() error                     { return nil }
func (c *execConn) CloseWrite() error                { return nil }
func (c *execConn) LocalAddr() net.Addr              { return execAddr{} }
func (c *execConn) RemoteAddr() net.Addr             { return execAddr{} }
func (c *execConn) SetDeadline(time.Time) error      { return nil }
func (c *execConn) SetReadDeadline(time.Time) error  { return nil }
func (c *execConn) SetWriteDeadline(time.Time) error { return nil }

type execAddr struct{}

func (execAddr) Network() string { return "fake" }
func (execAddr) String() string  { return "fake" }
