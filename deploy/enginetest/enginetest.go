package enginetest

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy"
)

// NamespaceLabel is the stack label every object the suite creates carries, so that the real
// engine's cleanup removes exactly them.
const NamespaceLabel = "com.docker.stack.namespace"

// Env is what differs between the engines under test.
type Env struct {
	// Image and Image2 are two different images present on the engine that run a long-lived
	// server by default (swarmrun-probe:1 and :2 on the real engine).
	Image, Image2 string
	// MissingImage is a reference that is neither present nor pullable.
	MissingImage string
	// ImageFile is the path of a regular file in Image's own filesystem (the probe's /probe).
	ImageFile string
	// Namespace returns a stack namespace unique to the test; the suite names its objects
	// <namespace>_<name> and labels them with NamespaceLabel=<namespace>. An engine that
	// outlives the test removes them in a cleanup.
	Namespace func(t *testing.T) string
	// Crash changes spec so that its tasks exit with code 1 shortly after starting.
	Crash func(t *testing.T, service string, spec *swarm.ContainerSpec)
	// NeverHealthy gives spec a healthcheck that never passes, with a short interval.
	NeverHealthy func(t *testing.T, service string, spec *swarm.ContainerSpec)
	// Exec is a command to run in a container of Image, and the exit code it must report.
	Exec     []string
	ExecCode int
	// Timeout bounds every wait for an asynchronous state; Poll is the polling interval.
	Timeout, Poll time.Duration
}

// Run runs the contract suite. newEngine is called once per subtest, which may run in
// parallel with others.
func Run(t *testing.T, newEngine func(t *testing.T) (deploy.Engine, Env)) {
	t.Helper()
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e, env := newEngine(t)
			h := &harness{t: t, e: e, env: env}
			h.ns = env.Namespace(t)
			c.run(h)
		})
	}
}

type testCase struct {
	name string
	run  func(h *harness)
}

// cases lists every contract, grouped by concern in the files of this package.
func cases() []testCase {
	var all []testCase
	all = append(all, serviceCases()...)
	all = append(all, taskCases()...)
	all = append(all, rolloutCases()...)
	all = append(all, objectCases()...)
	all = append(all, systemCases()...)
	all = append(all, archiveCases()...)
	return all
}

// harness carries one subtest's engine and helpers; calls use the subtest's context.
type harness struct {
	t   *testing.T
	e   deploy.Engine
	env Env
	ns  string
}

func (h *harness) name(x string) string { return h.ns + "_" + x }

func (h *harness) labels() map[string]string { return map[string]string{NamespaceLabel: h.ns} }

// spec is a one-replica service of image, labelled like a stack's.
func (h *harness) spec(name, image string) swarm.ServiceSpec {
	return swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: h.name(name), Labels: h.labels()},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: image, Labels: h.labels()},
		},
	}
}

func (h *harness) create(spec swarm.ServiceSpec) string {
	h.t.Helper()
	resp, err := h.e.ServiceCreate(h.t.Context(), spec, swarm.ServiceCreateOptions{})
	if err != nil {
		h.t.Fatalf("create service %s: %v", spec.Name, err)
	}
	if resp.ID == "" {
		h.t.Fatalf("create service %s: empty ID", spec.Name)
	}
	return resp.ID
}

func (h *harness) inspect(ref string) swarm.Service {
	h.t.Helper()
	s, _, err := h.e.ServiceInspectWithRaw(h.t.Context(), ref, swarm.ServiceInspectOptions{})
	if err != nil {
		h.t.Fatalf("inspect service %s: %v", ref, err)
	}
	return s
}

func (h *harness) update(s swarm.Service) {
	h.t.Helper()
	if _, err := h.e.ServiceUpdate(h.t.Context(), s.ID, s.Version, s.Spec, swarm.ServiceUpdateOptions{}); err != nil {
		h.t.Fatalf("update service %s: %v", s.Spec.Name, err)
	}
}

func (h *harness) tasks(serviceID string) []swarm.Task {
	h.t.Helper()
	ts, err := h.e.TaskList(h.t.Context(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", serviceID))})
	if err != nil {
		h.t.Fatalf("list tasks of %s: %v", serviceID, err)
	}
	return ts
}

// newest returns the newest task of each slot (by creation), the way swarmrun judges a
// service: replacements waiting with desired state ready count, old history does not.
func newest(ts []swarm.Task) map[int]swarm.Task {
	out := map[int]swarm.Task{}
	for _, t := range ts {
		key := t.Slot
		if cur, ok := out[key]; !ok || t.CreatedAt.After(cur.CreatedAt) || (t.CreatedAt.Equal(cur.CreatedAt) && t.Version.Index > cur.Version.Index) {
			out[key] = t
		}
	}
	return out
}

// eventually polls cond until it reports true, failing the test with cond's last detail when
// the environment's timeout passes.
func (h *harness) eventually(what string, cond func() (bool, string)) {
	h.t.Helper()
	deadline := time.Now().Add(h.env.Timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("after %s, still waiting for %s: %s", h.env.Timeout, what, detail)
		}
		select {
		case <-h.t.Context().Done():
			h.t.Fatalf("waiting for %s: %v", what, h.t.Context().Err())
		case <-time.After(h.env.Poll):
		}
	}
}

// consistently polls cond for the duration d and fails the test the first time it reports
// false: how a test shows that something does not happen (an engine acts asynchronously).
func (h *harness) consistently(what string, d time.Duration, cond func() (bool, string)) {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ok, detail := cond(); !ok {
			h.t.Fatalf("%s stopped holding: %s", what, detail)
		}
		select {
		case <-h.t.Context().Done():
			h.t.Fatalf("checking %s: %v", what, h.t.Context().Err())
		case <-time.After(h.env.Poll):
		}
	}
}

// waitRunning waits until every wanted slot of the service has a running task of its
// current spec, and returns those tasks by slot.
func (h *harness) waitRunning(serviceID string, slots int) map[int]swarm.Task {
	h.t.Helper()
	var got map[int]swarm.Task
	h.eventually("tasks running", func() (bool, string) {
		got = newest(h.tasks(serviceID))
		if len(got) < slots {
			return false, fmt.Sprintf("%d of %d slots have tasks", len(got), slots)
		}
		for _, t := range got {
			if t.Status.State != swarm.TaskStateRunning {
				return false, describe(t)
			}
		}
		return true, ""
	})
	return got
}

func describe(t swarm.Task) string {
	return fmt.Sprintf("task %s slot %d: state %s, desired %s, message %q, err %q", t.ID, t.Slot, t.Status.State, t.DesiredState, t.Status.Message, t.Status.Err)
}

func describeAll(ts []swarm.Task) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, describe(t))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

func u64(v uint64) *uint64 { return &v }
