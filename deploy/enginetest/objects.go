package enginetest

import (
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
)

func objectCases() []testCase {
	return []testCase{
		{"Networks", testNetworks},
		{"NetworkInUse", testNetworkInUse},
		{"Secrets", testSecrets},
		{"Configs", testConfigs},
		{"SecretAndConfigInUse", testSecretConfigInUse},
		{"Volumes", testVolumes},
	}
}

func (h *harness) createNetwork(name string) string {
	h.t.Helper()
	resp, err := h.e.NetworkCreate(h.t.Context(), h.name(name), network.CreateOptions{Driver: "overlay", Scope: "swarm", Labels: h.labels(), Attachable: true})
	if err != nil {
		h.t.Fatalf("create network %s: %v", name, err)
	}
	return resp.ID
}

func testNetworks(h *harness) {
	id := h.createNetwork("net")
	_, err := h.e.NetworkCreate(h.t.Context(), h.name("net"), network.CreateOptions{Driver: "overlay", Scope: "swarm", Labels: h.labels()})
	if !cerrdefs.IsConflict(err) {
		h.t.Errorf("duplicate network name: want conflict, got %v", err)
	}
	list := func(args ...filters.KeyValuePair) []network.Summary {
		h.t.Helper()
		l, err := h.e.NetworkList(h.t.Context(), network.ListOptions{Filters: filters.NewArgs(args...)})
		if err != nil {
			h.t.Fatalf("list networks %v: %v", args, err)
		}
		return l
	}
	byLabel := list(filters.Arg("label", NamespaceLabel+"="+h.ns))
	if len(byLabel) != 1 {
		h.t.Fatalf("networks by label: %+v", byLabel)
	}
	n := byLabel[0]
	if n.ID != id || n.Name != h.name("net") || n.Scope != "swarm" || !n.Attachable || n.Labels[NamespaceLabel] != h.ns {
		h.t.Errorf("network: %+v", n)
	}
	// The engine lists a new overlay network before its allocator has run: the driver (and
	// IPAM) read empty for a moment.
	h.eventually("network allocated", func() (bool, string) {
		l := list(filters.Arg("id", id))
		return len(l) == 1 && l[0].Driver == "overlay", fmt.Sprintf("%+v", l)
	})
	if l := list(filters.Arg("name", h.name("net"))); len(l) != 1 {
		h.t.Errorf("networks by exact name: %d", len(l))
	}
	// On the engine, a part of a swarm network's name matches nothing.
	if l := list(filters.Arg("name", h.ns)); len(l) != 0 {
		h.t.Errorf("networks by a prefix of the name: %d", len(l))
	}
	if l := list(filters.Arg("id", id[:8])); len(l) != 1 {
		h.t.Errorf("networks by ID prefix: %d", len(l))
	}
	if err := h.e.NetworkRemove(h.t.Context(), id); err != nil {
		h.t.Fatalf("remove network: %v", err)
	}
	if l := list(filters.Arg("label", NamespaceLabel+"="+h.ns)); len(l) != 0 {
		h.t.Errorf("network still listed after removal")
	}
	if err := h.e.NetworkRemove(h.t.Context(), id); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("remove missing network: want not found, got %v", err)
	}
}

// testNetworkInUse: a service names its network and the engine stores the network's ID; the
// network cannot go while the service uses it.
func testNetworkInUse(h *harness) {
	nid := h.createNetwork("used")
	spec := h.spec("netuser", h.env.Image)
	spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: h.name("used"), Aliases: []string{"netuser"}}}
	sid := h.create(spec)
	s := h.inspect(sid)
	if nets := s.Spec.TaskTemplate.Networks; len(nets) != 1 || nets[0].Target != nid {
		h.t.Errorf("network target is not resolved to the ID %s: %+v", nid, nets)
	}
	if err := h.e.NetworkRemove(h.t.Context(), nid); !cerrdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "in use") {
		h.t.Errorf("remove network in use: want invalid argument (in use), got %v", err)
	}
}

func testSecrets(h *harness) {
	spec := swarm.SecretSpec{Annotations: swarm.Annotations{Name: h.name("pw_v1"), Labels: h.labels()}, Data: []byte("secret")}
	resp, err := h.e.SecretCreate(h.t.Context(), spec)
	if err != nil || resp.ID == "" {
		h.t.Fatalf("create secret: %v", err)
	}
	if _, err := h.e.SecretCreate(h.t.Context(), spec); !cerrdefs.IsConflict(err) {
		h.t.Errorf("duplicate secret: want conflict, got %v", err)
	}
	list := func(args ...filters.KeyValuePair) []swarm.Secret {
		h.t.Helper()
		l, err := h.e.SecretList(h.t.Context(), swarm.SecretListOptions{Filters: filters.NewArgs(args...)})
		if err != nil {
			h.t.Fatalf("list secrets %v: %v", args, err)
		}
		return l
	}
	l := list(filters.Arg("label", NamespaceLabel+"="+h.ns))
	if len(l) != 1 || l[0].ID != resp.ID || l[0].Spec.Name != spec.Name || len(l[0].Spec.Data) != 0 {
		h.t.Fatalf("secrets by label (no data): %+v", l)
	}
	if l[0].Version.Index == 0 || l[0].CreatedAt.IsZero() {
		h.t.Errorf("secret meta: %+v", l[0].Meta)
	}
	if n := len(list(filters.Arg("name", h.name("pw")))); n != 1 {
		h.t.Errorf("secrets by name prefix: %d", n)
	}
	if n := len(list(filters.Arg("name", "pw_v1"), filters.Arg("label", NamespaceLabel+"="+h.ns))); n != 0 {
		h.t.Errorf("secrets by a part of the name that is not a prefix: %d", n)
	}
	if n := len(list(filters.Arg("id", resp.ID))); n != 1 {
		h.t.Errorf("secrets by id: %d", n)
	}
	dotted := swarm.SecretSpec{Annotations: swarm.Annotations{Name: h.name("tls.key_v1"), Labels: h.labels()}, Data: []byte("k")}
	if _, err := h.e.SecretCreate(h.t.Context(), dotted); err != nil {
		h.t.Errorf("secret name with a dot: %v", err)
	}
	bad := swarm.SecretSpec{Annotations: swarm.Annotations{Name: h.name("bad_") + "/", Labels: h.labels()}, Data: []byte("k")}
	if _, err := h.e.SecretCreate(h.t.Context(), bad); !cerrdefs.IsInvalidArgument(err) {
		h.t.Errorf("secret name with a slash: want invalid argument, got %v", err)
	}
	if err := h.e.SecretRemove(h.t.Context(), resp.ID); err != nil {
		h.t.Fatalf("remove secret: %v", err)
	}
	if err := h.e.SecretRemove(h.t.Context(), resp.ID); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("remove missing secret: want not found, got %v", err)
	}
}

func testConfigs(h *harness) {
	spec := swarm.ConfigSpec{Annotations: swarm.Annotations{Name: h.name("conf_v1"), Labels: h.labels()}, Data: []byte("config")}
	resp, err := h.e.ConfigCreate(h.t.Context(), spec)
	if err != nil || resp.ID == "" {
		h.t.Fatalf("create config: %v", err)
	}
	if _, err := h.e.ConfigCreate(h.t.Context(), spec); !cerrdefs.IsConflict(err) {
		h.t.Errorf("duplicate config: want conflict, got %v", err)
	}
	l, err := h.e.ConfigList(h.t.Context(), swarm.ConfigListOptions{Filters: filters.NewArgs(filters.Arg("label", NamespaceLabel+"="+h.ns))})
	if err != nil || len(l) != 1 || l[0].ID != resp.ID || string(l[0].Spec.Data) != "config" {
		h.t.Fatalf("configs by label (with data): %v %+v", err, l)
	}
	l, err = h.e.ConfigList(h.t.Context(), swarm.ConfigListOptions{Filters: filters.NewArgs(filters.Arg("name", h.name("conf")))})
	if err != nil || len(l) != 1 {
		h.t.Errorf("configs by name prefix: %v %d", err, len(l))
	}
	// The engine resolves a name as well as an ID.
	if err := h.e.ConfigRemove(h.t.Context(), spec.Name); err != nil {
		h.t.Fatalf("remove config by name: %v", err)
	}
	if err := h.e.ConfigRemove(h.t.Context(), resp.ID); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("remove missing config: want not found, got %v", err)
	}
}

func testSecretConfigInUse(h *harness) {
	sec, err := h.e.SecretCreate(h.t.Context(), swarm.SecretSpec{Annotations: swarm.Annotations{Name: h.name("s_v1"), Labels: h.labels()}, Data: []byte("s")})
	if err != nil {
		h.t.Fatalf("create secret: %v", err)
	}
	cfg, err := h.e.ConfigCreate(h.t.Context(), swarm.ConfigSpec{Annotations: swarm.Annotations{Name: h.name("c_v1"), Labels: h.labels()}, Data: []byte("c")})
	if err != nil {
		h.t.Fatalf("create config: %v", err)
	}
	spec := h.spec("user", h.env.Image)
	spec.TaskTemplate.ContainerSpec.Secrets = []*swarm.SecretReference{{SecretID: sec.ID, SecretName: h.name("s_v1"),
		File: &swarm.SecretReferenceFileTarget{Name: "s", UID: "0", GID: "0", Mode: 0o444}}}
	spec.TaskTemplate.ContainerSpec.Configs = []*swarm.ConfigReference{{ConfigID: cfg.ID, ConfigName: h.name("c_v1"),
		File: &swarm.ConfigReferenceFileTarget{Name: "/c", UID: "0", GID: "0", Mode: 0o444}}}
	h.create(spec)
	if err := h.e.SecretRemove(h.t.Context(), sec.ID); !cerrdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "in use") {
		h.t.Errorf("remove secret in use: want invalid argument (in use), got %v", err)
	}
	if err := h.e.ConfigRemove(h.t.Context(), cfg.ID); !cerrdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "in use") {
		h.t.Errorf("remove config in use: want invalid argument (in use), got %v", err)
	}
}

// testVolumes: a named volume mount creates the volume, labelled from the mount's volume
// options, when the task starts; it cannot be removed while a container uses it, and stays
// after the service is gone until removed.
func testVolumes(h *harness) {
	spec := h.spec("vol", h.env.Image)
	vname := h.name("data")
	spec.TaskTemplate.ContainerSpec.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: vname, Target: "/data",
		VolumeOptions: &mount.VolumeOptions{Labels: map[string]string{NamespaceLabel: h.ns, "swarmrun.test/v": "1"}}}}
	id := h.create(spec)
	h.waitRunning(id, 1)
	byLabel := func() []*volume.Volume {
		h.t.Helper()
		l, err := h.e.VolumeList(h.t.Context(), volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", NamespaceLabel+"="+h.ns))})
		if err != nil {
			h.t.Fatalf("list volumes: %v", err)
		}
		return l.Volumes
	}
	vs := byLabel()
	if len(vs) != 1 || vs[0].Name != vname || vs[0].Labels["swarmrun.test/v"] != "1" || vs[0].Driver != "local" {
		h.t.Fatalf("volumes by label: %+v", vs)
	}
	if err := h.e.VolumeRemove(h.t.Context(), vname, false); !cerrdefs.IsConflict(err) {
		h.t.Errorf("remove volume in use: want conflict, got %v", err)
	}
	if err := h.e.ServiceRemove(h.t.Context(), id); err != nil {
		h.t.Fatalf("remove service: %v", err)
	}
	if len(byLabel()) != 1 {
		h.t.Errorf("the volume went with its service")
	}
	h.eventually("volume removable", func() (bool, string) {
		err := h.e.VolumeRemove(h.t.Context(), vname, false)
		return err == nil, "remove: " + errString(err)
	})
	if err := h.e.VolumeRemove(h.t.Context(), vname, false); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("remove missing volume: want not found, got %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
