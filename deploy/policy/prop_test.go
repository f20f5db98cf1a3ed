package policy

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"pgregory.net/rapid"

	"github.com/swarmrun/swarmrun/deploy/render"
)

// hostPaths are what allow-lists and mounts are drawn from: engine paths and the directories
// around them next to ordinary ones. Allow-lists are not validated in the property tests
// that call violations directly, so "/" and "/var/run" are fair game there.
var hostPaths = []string{
	"/", "/var", "/var/run", "/run", "/run/docker.sock", "/var/run/docker.sock", "/run/docker",
	"/run/containerd", "/proc", "/srv", "/srv/shared-fixtures", "/srv/shared-fixtures/db", "/etc", "/home/ci",
	"/var/lib", "/var/lib/docker", "/opt/data",
}

// socketTargets are paths that are the Docker socket or hold it.
var socketTargets = []string{"/var/run/docker.sock", "/run/docker.sock", "/var/run", "/run", "/var", "/"}

// drawSocketPath draws a path that cleans to the Docker socket or a directory holding it,
// spelt with doubled slashes, "." and "x/.." detours and a trailing slash.
func drawSocketPath(t *rapid.T) string {
	target := rapid.SampledFrom(socketTargets).Draw(t, "socket target")
	segments := strings.Split(strings.TrimPrefix(target, "/"), "/")
	if target == "/" {
		segments = nil
	}
	var b strings.Builder
	for i := 0; i <= len(segments); i++ {
		for range rapid.IntRange(0, 2).Draw(t, "detours") {
			switch rapid.IntRange(0, 2).Draw(t, "detour") {
			case 0:
				b.WriteString("/")
			case 1:
				b.WriteString("/.")
			case 2:
				b.WriteString("/" + rapid.SampledFrom([]string{"x", "docker", "run", "docker.sock"}).Draw(t, "via") + "/..")
			}
		}
		if i < len(segments) {
			b.WriteString("/" + segments[i])
		}
	}
	p := b.String()
	if p == "" || rapid.Bool().Draw(t, "trailing slash") {
		p += "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if path.Clean(p) != target {
		t.Fatalf("drawn path %q cleans to %q, not %q", p, path.Clean(p), target)
	}
	return p
}

// drawAllow draws allow-lists of any breadth, dangerous entries included.
func drawAllow(t *rapid.T) Allow {
	paths := rapid.SliceOfN(rapid.SampledFrom(hostPaths), 0, 6)
	names := rapid.SliceOfN(rapid.SampledFrom([]string{"proxy", "host", "proxy_cert", "shared_conf", "operator_backups", "pol_x", "bridge"}), 0, 4)
	return Allow{
		BindMounts:         paths.Draw(t, "bindMounts"),
		WritableBindMounts: paths.Draw(t, "writableBindMounts"),
		ExternalSecrets:    names.Draw(t, "externalSecrets"),
		ExternalConfigs:    names.Draw(t, "externalConfigs"),
		ExternalNetworks:   names.Draw(t, "externalNetworks"),
		ExternalVolumes:    names.Draw(t, "externalVolumes"),
		PublishedPorts:     rapid.SliceOfN(rapid.SampledFrom([]int{80, 443, 8080, 2222}), 0, 3).Draw(t, "publishedPorts"),
	}
}

// drawHostMount mounts the host path p, as a bind or as a local volume that binds it.
func drawHostMount(t *rapid.T, p string) mount.Mount {
	readOnly := rapid.Bool().Draw(t, "read-only")
	if rapid.Bool().Draw(t, "bind mount") {
		return mount.Mount{Type: mount.TypeBind, Source: p, Target: "/m", ReadOnly: readOnly}
	}
	opts := map[string]string{"device": p}
	switch rapid.IntRange(0, 3).Draw(t, "bind spelling") {
	case 0:
		opts["type"], opts["o"] = "none", "bind"
	case 1:
		opts["type"], opts["o"] = "none", "rbind,ro"
	case 2:
		opts["type"], opts["o"] = "ext4", "ro,bind"
	case 3:
		opts["type"] = "none"
	}
	source := rapid.SampledFrom([]string{"pol_data", "operator_backups", ""}).Draw(t, "volume")
	return mount.Mount{Type: mount.TypeVolume, Source: source, Target: "/m", ReadOnly: readOnly,
		VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Name: rapid.SampledFrom([]string{"", "local"}).Draw(t, "driver"), Options: opts}}}
}

// drawMount draws any mount: host paths, volumes of the stack or not, tmpfs.
func drawMount(t *rapid.T) mount.Mount {
	switch rapid.IntRange(0, 3).Draw(t, "mount kind") {
	case 0, 1:
		return drawHostMount(t, rapid.SampledFrom(hostPaths).Draw(t, "host path"))
	case 2:
		return mount.Mount{Type: mount.TypeVolume, Source: rapid.SampledFrom([]string{"pol_data", "operator_backups", "warm-x_data"}).Draw(t, "volume"), Target: "/v"}
	}
	return mount.Mount{Type: mount.TypeTmpfs, Target: "/tmp"}
}

// drawStack draws a stack with services that use its own objects and others', the host's
// paths and network, capabilities and ports.
func drawStack(t *rapid.T) *render.Stack {
	st := &render.Stack{
		Name:             testStack,
		Networks:         map[string]network.CreateOptions{"pol_default": {Driver: "overlay"}},
		ExternalNetworks: []string{"proxy", "host"},
		Secrets:          map[string]swarm.SecretSpec{"pol_db_v1": {}},
		ExternalSecrets:  []string{"proxy_cert"},
		Configs:          map[string]swarm.ConfigSpec{"pol_conf": {}},
		ExternalConfigs:  []string{"shared_conf"},
		Services:         map[string]swarm.ServiceSpec{},
	}
	if rapid.Bool().Draw(t, "foreign network") {
		st.Networks["bridge"] = network.CreateOptions{Driver: rapid.SampledFrom([]string{"overlay", "bridge", "host"}).Draw(t, "driver")}
	}
	for i := range rapid.IntRange(1, 3).Draw(t, "services") {
		cs := &swarm.ContainerSpec{
			Image:         "x",
			CapabilityAdd: rapid.SliceOfN(rapid.SampledFrom([]string{"CHOWN", "SYS_ADMIN", "ALL", "net_raw"}), 0, 2).Draw(t, "cap_add"),
			OomScoreAdj:   int64(rapid.IntRange(-2, 2).Draw(t, "oom")),
		}
		for range rapid.IntRange(0, 3).Draw(t, "mounts") {
			cs.Mounts = append(cs.Mounts, drawMount(t))
		}
		for _, name := range rapid.SliceOfN(rapid.SampledFrom([]string{"pol_db_v1", "proxy_cert", "ghost"}), 0, 2).Draw(t, "secrets") {
			cs.Secrets = append(cs.Secrets, &swarm.SecretReference{SecretName: name})
		}
		for _, name := range rapid.SliceOfN(rapid.SampledFrom([]string{"pol_conf", "shared_conf"}), 0, 2).Draw(t, "configs") {
			cs.Configs = append(cs.Configs, &swarm.ConfigReference{ConfigName: name})
		}
		var nets []swarm.NetworkAttachmentConfig
		for _, name := range rapid.SliceOfN(rapid.SampledFrom([]string{"pol_default", "proxy", "host", "bridge"}), 1, 2).Draw(t, "networks") {
			nets = append(nets, swarm.NetworkAttachmentConfig{Target: name})
		}
		var ports []swarm.PortConfig
		for _, p := range rapid.SliceOfN(rapid.SampledFrom([]uint32{0, 80, 8080, 2222}), 0, 2).Draw(t, "ports") {
			ports = append(ports, swarm.PortConfig{TargetPort: 80, PublishedPort: p})
		}
		name := fmt.Sprintf("pol_s%d", i)
		st.Services[name] = swarm.ServiceSpec{
			Annotations: swarm.Annotations{Name: name},
			TaskTemplate: swarm.TaskSpec{
				ContainerSpec: cs,
				Networks:      nets,
				LogDriver:     &swarm.Driver{Name: rapid.SampledFrom([]string{"", "json-file", "syslog"}).Draw(t, "log driver")},
			},
			EndpointSpec: &swarm.EndpointSpec{Ports: ports},
		}
	}
	return st
}

// TestSocketMountNeverPasses: a stack that mounts the Docker socket, or a directory that holds
// it, under any spelling, as a bind or as a local volume's device, never passes, whatever the
// allow-lists say, whatever else the stack holds, for every deploy that is checked.
func TestSocketMountNeverPasses(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		st := drawStack(t)
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range st.Services {
				if !yield(n) {
					return
				}
			}
		})
		full := rapid.SampledFrom(names).Draw(t, "service")
		svc := st.Services[full]
		cs := *svc.TaskTemplate.ContainerSpec
		at := rapid.IntRange(0, len(cs.Mounts)).Draw(t, "at")
		cs.Mounts = slices.Insert(slices.Clone(cs.Mounts), at, drawHostMount(t, drawSocketPath(t)))
		svc.TaskTemplate.ContainerSpec = &cs
		st.Services[full] = svc
		allow := drawAllow(t)

		want := Violation{Service: strings.TrimPrefix(full, "pol_"), Field: fmt.Sprintf("volumes[%d]", at), Rule: RuleDockerSocket}
		found := slices.ContainsFunc(violations(st, allow), func(v Violation) bool {
			return v.Service == want.Service && v.Field == want.Field && v.Rule == want.Rule
		})
		if !found {
			t.Fatalf("no %s violation for %s %s (%+v) with %+v: %v", RuleDockerSocket, want.Service, want.Field, cs.Mounts[at], allow, violations(st, allow))
		}

		p := Policy{Allow: allow, TrustPublishedBase: rapid.Bool().Draw(t, "trust"),
			Recipes: map[string]RecipeAllow{"demo": {Allow: drawAllow(t)}}}
		d := rapid.SampledFrom([]Deploy{
			{Recipe: "demo", Role: RoleHead},
			{Recipe: "demo", Role: RoleHead, Published: true},
			{Recipe: "demo", Role: RoleBase},
			{Recipe: "other", Role: RoleWarm},
		}).Draw(t, "deploy")
		err := Check(st, p, d)
		switch {
		case err == nil:
			t.Fatalf("Check passed a stack that mounts %s", cs.Mounts[at].Source)
		case p.Validate() == nil && !errors.Is(err, ErrDenied):
			t.Fatalf("Check of a valid policy = %v, want ErrDenied", err)
		}
	})
}

// TestAllowingMoreNeverDeniesMore: widening the allow-lists only ever removes violations, and
// the violations come out sorted and the same every time.
func TestAllowingMoreNeverDeniesMore(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		st := drawStack(t)
		narrow := drawAllow(t)
		extra := drawAllow(t)
		wide := narrow.merge(extra)
		denied := keys(t, violations(st, narrow))
		for _, k := range keys(t, violations(st, wide)) {
			if !slices.Contains(denied, k) {
				t.Fatalf("allowing more (%+v over %+v) denied %s", extra, narrow, k)
			}
		}
		again := violations(st, narrow)
		if !slices.Equal(keys(t, again), denied) {
			t.Fatalf("two checks of one stack differ:\n%q\n%q", denied, keys(t, again))
		}
		if !slices.IsSortedFunc(again, func(a, b Violation) int {
			if c := strings.Compare(a.Service, b.Service); c != 0 {
				return c
			}
			return naturalCompare(a.Field, b.Field)
		}) {
			t.Fatalf("violations not sorted: %q", denied)
		}
	})
}
