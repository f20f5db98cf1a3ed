package enginetest

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

func serviceCases() []testCase {
	return []testCase{
		{"ServiceCreateInspect", testServiceCreateInspect},
		{"ServiceCreateDuplicateName", testServiceCreateDuplicate},
		{"ServiceCreateInvalid", testServiceCreateInvalid},
		{"ServiceImageResolution", testServiceImageResolution},
		{"ServiceList", testServiceList},
		{"ServiceUpdateLabelsOnly", testServiceUpdateLabelsOnly},
		{"ServiceUpdateUnchanged", testServiceUpdateUnchanged},
		{"ServiceUpdateStaleVersion", testServiceUpdateStale},
		{"ServiceRemove", testServiceRemove},
	}
}

// testServiceCreateInspect: a created service reads back by ID, name and ID prefix, with the
// defaults the engine fills in, so that an unchanged spec compares equal on the next deploy.
func testServiceCreateInspect(h *harness) {
	id := h.create(h.spec("web", h.env.Image))
	s := h.inspect(id)
	if s.ID != id || s.Spec.Name != h.name("web") {
		h.t.Fatalf("inspect by ID: got %s %q", s.ID, s.Spec.Name)
	}
	if s.Version.Index == 0 || s.CreatedAt.IsZero() || s.UpdatedAt.IsZero() {
		h.t.Errorf("meta not set: %+v", s.Meta)
	}
	if s.Spec.Labels[NamespaceLabel] != h.ns {
		h.t.Errorf("labels: %v", s.Spec.Labels)
	}
	if m := s.Spec.Mode.Replicated; m == nil || m.Replicas == nil || *m.Replicas != 1 {
		h.t.Errorf("mode defaults to one replica, got %+v", s.Spec.Mode)
	}
	if s.Spec.TaskTemplate.Runtime != swarm.RuntimeContainer || s.Spec.TaskTemplate.ContainerSpec.Isolation != "default" {
		h.t.Errorf("task template defaults: runtime %q isolation %q", s.Spec.TaskTemplate.Runtime, s.Spec.TaskTemplate.ContainerSpec.Isolation)
	}
	if s.PreviousSpec != nil || s.UpdateStatus != nil {
		h.t.Errorf("new service has previous spec %v or update status %v", s.PreviousSpec, s.UpdateStatus)
	}
	if byName := h.inspect(h.name("web")); byName.ID != id {
		h.t.Errorf("inspect by name: %s", byName.ID)
	}
	if byPrefix := h.inspect(id[:8]); byPrefix.ID != id {
		h.t.Errorf("inspect by ID prefix: %s", byPrefix.ID)
	}
	_, raw, err := h.e.ServiceInspectWithRaw(h.t.Context(), id, swarm.ServiceInspectOptions{})
	if err != nil || !strings.Contains(string(raw), id) {
		h.t.Errorf("raw inspect: %v %q", err, raw)
	}
	_, _, err = h.e.ServiceInspectWithRaw(h.t.Context(), h.name("nope"), swarm.ServiceInspectOptions{})
	if !cerrdefs.IsNotFound(err) {
		h.t.Errorf("inspect missing: want not found, got %v", err)
	}

	// Defaults for explicitly empty sub-structures, as docker stack deploy sends them.
	full := h.spec("full", h.env.Image)
	full.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{}
	full.UpdateConfig = &swarm.UpdateConfig{Parallelism: 1}
	full.EndpointSpec = &swarm.EndpointSpec{}
	full.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{}}
	fs := h.inspect(h.create(full))
	if rp := fs.Spec.TaskTemplate.RestartPolicy; rp == nil || rp.Condition != swarm.RestartPolicyConditionAny || rp.MaxAttempts == nil || *rp.MaxAttempts != 0 {
		h.t.Errorf("restart policy defaults: %+v", rp)
	}
	if uc := fs.Spec.UpdateConfig; uc == nil || uc.FailureAction != swarm.UpdateFailureActionPause || uc.Order != swarm.UpdateOrderStopFirst || uc.Parallelism != 1 {
		h.t.Errorf("update config defaults: %+v", uc)
	}
	if ep := fs.Spec.EndpointSpec; ep == nil || ep.Mode != swarm.ResolutionModeVIP {
		h.t.Errorf("endpoint spec defaults: %+v", ep)
	}
	if r := fs.Spec.Mode.Replicated.Replicas; r == nil || *r != 1 {
		h.t.Errorf("replicas default: %v", r)
	}
	// Reading back and writing the same spec changes nothing a deploy would see as a change.
	again := h.inspect(fs.ID)
	if !reflect.DeepEqual(again.Spec, fs.Spec) {
		h.t.Errorf("spec changed between two inspects:\n%+v\n%+v", again.Spec, fs.Spec)
	}
}

func testServiceCreateDuplicate(h *harness) {
	h.create(h.spec("dup", h.env.Image))
	_, err := h.e.ServiceCreate(h.t.Context(), h.spec("dup", h.env.Image), swarm.ServiceCreateOptions{})
	if !cerrdefs.IsConflict(err) {
		h.t.Fatalf("duplicate name: want conflict, got %v", err)
	}
	if !strings.Contains(err.Error(), "already exists") {
		h.t.Errorf("duplicate name message: %v", err)
	}
}

func testServiceCreateInvalid(h *harness) {
	bad := h.spec("Bad.Name", h.env.Image)
	if _, err := h.e.ServiceCreate(h.t.Context(), bad, swarm.ServiceCreateOptions{}); !cerrdefs.IsInvalidArgument(err) {
		h.t.Errorf("invalid name: want invalid argument, got %v", err)
	}
	sec := h.spec("nosecret", h.env.Image)
	sec.TaskTemplate.ContainerSpec.Secrets = []*swarm.SecretReference{{SecretID: "nope", SecretName: "nope",
		File: &swarm.SecretReferenceFileTarget{Name: "nope", UID: "0", GID: "0", Mode: 0o444}}}
	if _, err := h.e.ServiceCreate(h.t.Context(), sec, swarm.ServiceCreateOptions{}); !cerrdefs.IsInvalidArgument(err) {
		h.t.Errorf("missing secret: want invalid argument, got %v", err)
	}
	nonet := h.spec("nonet", h.env.Image)
	nonet.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: h.name("nonet")}}
	if _, err := h.e.ServiceCreate(h.t.Context(), nonet, swarm.ServiceCreateOptions{}); err == nil || !strings.Contains(err.Error(), "not found") {
		h.t.Errorf("missing network: want a not found error, got %v", err)
	}
}

// testServiceList: the filters swarmrun uses. name and id match by prefix on the engine.
func testServiceList(h *harness) {
	a := h.spec("alpha", h.env.Image)
	a.Labels["swarmrun.test/role"] = "a"
	aid := h.create(a)
	h.create(h.spec("beta", h.env.Image))
	count := func(args ...filters.KeyValuePair) int {
		h.t.Helper()
		l, err := h.e.ServiceList(h.t.Context(), swarm.ServiceListOptions{Filters: filters.NewArgs(args...)})
		if err != nil {
			h.t.Fatalf("list %v: %v", args, err)
		}
		return len(l)
	}
	checks := []struct {
		what string
		args []filters.KeyValuePair
		want int
	}{
		{"label key=value", []filters.KeyValuePair{filters.Arg("label", NamespaceLabel+"="+h.ns)}, 2},
		{"label key", []filters.KeyValuePair{filters.Arg("label", NamespaceLabel+"="+h.ns), filters.Arg("label", "swarmrun.test/role")}, 1},
		{"label other value", []filters.KeyValuePair{filters.Arg("label", NamespaceLabel+"="+h.ns+"x")}, 0},
		{"name exact", []filters.KeyValuePair{filters.Arg("name", h.name("alpha"))}, 1},
		{"name prefix", []filters.KeyValuePair{filters.Arg("name", h.ns+"_")}, 2},
		{"name not a prefix", []filters.KeyValuePair{filters.Arg("name", "lpha"), filters.Arg("label", NamespaceLabel+"="+h.ns)}, 0},
		{"id", []filters.KeyValuePair{filters.Arg("id", aid)}, 1},
		{"id prefix", []filters.KeyValuePair{filters.Arg("id", aid[:10])}, 1},
	}
	for _, c := range checks {
		if got := count(c.args...); got != c.want {
			h.t.Errorf("%s: got %d services, want %d", c.what, got, c.want)
		}
	}
	_, err := h.e.ServiceList(h.t.Context(), swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("bogus", "x"))})
	if !cerrdefs.IsInvalidArgument(err) {
		h.t.Errorf("unknown filter: want invalid argument, got %v", err)
	}
	l, err := h.e.ServiceList(h.t.Context(), swarm.ServiceListOptions{Status: true, Filters: filters.NewArgs(filters.Arg("id", aid))})
	if err != nil || len(l) != 1 || l[0].ServiceStatus == nil || l[0].ServiceStatus.DesiredTasks != 1 {
		h.t.Errorf("list with status: %v %+v", err, l)
	}
}

// testServiceUpdateLabelsOnly: an update outside the task template bumps the version, keeps
// the previous spec, resets the update status and restarts nothing.
func testServiceUpdateLabelsOnly(h *harness) {
	id := h.create(h.spec("labels", h.env.Image))
	before := h.waitRunning(id, 1)[1]
	s := h.inspect(id)
	s.Spec.Labels["swarmrun.test/extra"] = "yes"
	h.update(s)
	after := h.inspect(id)
	if after.Version.Index <= s.Version.Index {
		h.t.Errorf("version did not increase: %d -> %d", s.Version.Index, after.Version.Index)
	}
	if after.Spec.Labels["swarmrun.test/extra"] != "yes" {
		h.t.Errorf("label not applied: %v", after.Spec.Labels)
	}
	if after.PreviousSpec == nil || after.PreviousSpec.Labels["swarmrun.test/extra"] != "" {
		h.t.Errorf("previous spec: %+v", after.PreviousSpec)
	}
	h.consistently("no rollout, same running task", time.Second, func() (bool, string) {
		got := h.inspect(id)
		ts := h.tasks(id)
		return got.UpdateStatus == nil && len(ts) == 1 && ts[0].ID == before.ID && ts[0].Status.State == swarm.TaskStateRunning,
			fmt.Sprintf("%+v; %s", got.UpdateStatus, describeAll(ts))
	})
}

func testServiceUpdateStale(h *harness) {
	id := h.create(h.spec("stale", h.env.Image))
	s := h.inspect(id)
	s.Spec.Labels["swarmrun.test/n"] = "1"
	h.update(s)
	s.Spec.Labels["swarmrun.test/n"] = "2"
	_, err := h.e.ServiceUpdate(h.t.Context(), id, s.Version, s.Spec, swarm.ServiceUpdateOptions{})
	if err == nil || !strings.Contains(err.Error(), "update out of sequence") {
		h.t.Fatalf("stale version: want update out of sequence, got %v", err)
	}
	if !cerrdefs.IsInternal(err) {
		h.t.Errorf("stale version: the engine answers 500 (internal), got %v", err)
	}
	if got := h.inspect(id).Spec.Labels["swarmrun.test/n"]; got != "1" {
		h.t.Errorf("stale update applied: label %q", got)
	}
	_, err = h.e.ServiceUpdate(h.t.Context(), h.name("nope"), s.Version, s.Spec, swarm.ServiceUpdateOptions{})
	if !cerrdefs.IsNotFound(err) {
		h.t.Errorf("update of a missing service: want not found, got %v", err)
	}
}

func testServiceRemove(h *harness) {
	id := h.create(h.spec("gone", h.env.Image))
	h.waitRunning(id, 1)
	if err := h.e.ServiceRemove(h.t.Context(), id); err != nil {
		h.t.Fatalf("remove: %v", err)
	}
	if _, _, err := h.e.ServiceInspectWithRaw(h.t.Context(), id, swarm.ServiceInspectOptions{}); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("inspect removed: want not found, got %v", err)
	}
	if err := h.e.ServiceRemove(h.t.Context(), id); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("remove again: want not found, got %v", err)
	}
	_, err := h.e.TaskList(h.t.Context(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", id))})
	if !cerrdefs.IsNotFound(err) {
		h.t.Errorf("tasks of a removed service: want not found, got %v", err)
	}
}

// testServiceImageResolution: the client tags an untagged image :latest; asked to query the
// registry and finding none, it keeps the image and warns instead of failing.
func testServiceImageResolution(h *harness) {
	repo := h.env.Image[:strings.LastIndex(h.env.Image, ":")]
	id := h.create(h.spec("untagged", repo))
	if img := h.inspect(id).Spec.TaskTemplate.ContainerSpec.Image; img != repo+":latest" {
		h.t.Errorf("untagged image stored as %q", img)
	}
	resp, err := h.e.ServiceCreate(h.t.Context(), h.spec("query", h.env.Image), swarm.ServiceCreateOptions{QueryRegistry: true})
	if err != nil {
		h.t.Fatalf("create with registry query: %v", err)
	}
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "could not be accessed on a registry") {
		h.t.Errorf("warnings: %q", resp.Warnings)
	}
	if img := h.inspect(resp.ID).Spec.TaskTemplate.ContainerSpec.Image; img != h.env.Image {
		h.t.Errorf("image after a failed registry query: %q", img)
	}
	s := h.inspect(resp.ID)
	s.Spec.Labels["swarmrun.test/u"] = "1"
	uresp, err := h.e.ServiceUpdate(h.t.Context(), s.ID, s.Version, s.Spec, swarm.ServiceUpdateOptions{QueryRegistry: true})
	if err != nil || len(uresp.Warnings) != 1 {
		h.t.Errorf("update with registry query: %v %q", err, uresp.Warnings)
	}
}

// testServiceUpdateUnchanged: writing back the spec as read (a full, compose-like one) is a
// write, but changes nothing else: no rollout, no task replaced, the same spec.
func testServiceUpdateUnchanged(h *harness) {
	spec := h.spec("same", h.env.Image)
	spec.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionOnFailure}
	spec.UpdateConfig = &swarm.UpdateConfig{Parallelism: 1, Order: swarm.UpdateOrderStartFirst}
	spec.EndpointSpec = &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR}
	spec.TaskTemplate.ContainerSpec.Env = []string{"A=1"}
	id := h.create(spec)
	before := h.waitRunning(id, 1)[1]
	s := h.inspect(id)
	h.update(s)
	after := h.inspect(id)
	if after.Version.Index <= s.Version.Index {
		h.t.Errorf("version did not move: %d -> %d", s.Version.Index, after.Version.Index)
	}
	if !reflect.DeepEqual(after.Spec, s.Spec) || after.PreviousSpec == nil || !reflect.DeepEqual(*after.PreviousSpec, s.Spec) {
		h.t.Errorf("spec changed by writing it back:\n%+v\n%+v", s.Spec, after.Spec)
	}
	h.consistently("no rollout, same task", time.Second, func() (bool, string) {
		got := h.inspect(id)
		ts := h.tasks(id)
		return got.UpdateStatus == nil && len(ts) == 1 && ts[0].ID == before.ID, fmt.Sprintf("%+v; %s", got.UpdateStatus, describeAll(ts))
	})
}
