package policy

import (
	"errors"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/render"
)

// specStack is a stack of one service, app, on the stack's own network, changed by edit.
// It stands for what compose cannot write but a render.Stack can hold: the check judges the
// spec, whatever produced it.
func specStack(edit func(st *render.Stack, app *swarm.ServiceSpec)) *render.Stack {
	st := &render.Stack{
		Name:     testStack,
		Networks: map[string]network.CreateOptions{"pol_default": {Driver: render.DefaultNetworkDriver}},
		Secrets:  map[string]swarm.SecretSpec{},
		Configs:  map[string]swarm.ConfigSpec{},
		Services: map[string]swarm.ServiceSpec{},
	}
	app := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: "pol_app"},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: "swarmrun-probe:1", Privileges: &swarm.Privileges{}},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: "pol_default"}},
		},
	}
	edit(st, &app)
	st.Services[app.Name] = app
	return st
}

func localVolume(source string, opts map[string]string) mount.Mount {
	return mount.Mount{Type: mount.TypeVolume, Source: source, Target: "/v",
		VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Name: "local", Options: opts}}}
}

// TestCheckSpecFields covers the fields of the service spec that compose does not write (or
// docker's loader drops) and the stack's own declarations.
func TestCheckSpecFields(t *testing.T) {
	fixtures := Allow{BindMounts: []string{"/srv/shared-fixtures"}}
	tests := []struct {
		name  string
		allow Allow
		edit  func(st *render.Stack, app *swarm.ServiceSpec)
		want  []string
	}{
		{
			name: "nothing but the stack's own",
			edit: func(*render.Stack, *swarm.ServiceSpec) {},
		},
		{
			name: "seccomp unconfined",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate.ContainerSpec.Privileges.Seccomp = &swarm.SeccompOpts{Mode: swarm.SeccompModeUnconfined}
			},
			want: []string{"app|privileges.seccomp|unconfined|security-options"},
		},
		{
			name: "seccomp custom profile",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate.ContainerSpec.Privileges.Seccomp = &swarm.SeccompOpts{Mode: swarm.SeccompModeCustom, Profile: []byte(`{}`)}
			},
			want: []string{"app|privileges.seccomp|custom profile|security-options"},
		},
		{
			name: "seccomp and AppArmor defaults, no new privileges",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate.ContainerSpec.Privileges = &swarm.Privileges{
					Seccomp:         &swarm.SeccompOpts{Mode: swarm.SeccompModeDefault},
					AppArmor:        &swarm.AppArmorOpts{Mode: swarm.AppArmorModeDefault},
					SELinuxContext:  &swarm.SELinuxContext{},
					CredentialSpec:  &swarm.CredentialSpec{},
					NoNewPrivileges: true,
				}
			},
		},
		{
			name: "AppArmor disabled",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate.ContainerSpec.Privileges.AppArmor = &swarm.AppArmorOpts{Mode: swarm.AppArmorModeDisabled}
			},
			want: []string{"app|privileges.apparmor|disabled|security-options"},
		},
		{
			name: "SELinux labels",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate.ContainerSpec.Privileges.SELinuxContext = &swarm.SELinuxContext{Type: "spc_t", Level: "s0"}
			},
			want: []string{"app|privileges.selinux|type=spc_t level=s0|security-options"},
		},
		{
			name: "SELinux disabled",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate.ContainerSpec.Privileges.SELinuxContext = &swarm.SELinuxContext{Disable: true}
			},
			want: []string{"app|privileges.selinux|disable|security-options"},
		},
		{
			name: "negative OOM score; a positive one is fine",
			edit: func(st *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate.ContainerSpec.OomScoreAdj = -1000
				worker := *app
				worker.Name = "pol_worker"
				worker.TaskTemplate.ContainerSpec = &swarm.ContainerSpec{Image: "x", OomScoreAdj: 500}
				st.Services[worker.Name] = worker
			},
			want: []string{"app|oom_score_adj|-1000|oom-score-adj"},
		},
		{
			name: "plugin task",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate = swarm.TaskSpec{Runtime: swarm.RuntimePlugin, PluginSpec: &swarm.RuntimeSpec{Name: "vieux/sshfs"}}
			},
			want: []string{"app|runtime|plugin vieux/sshfs|runtime"},
		},
		{
			name: "unknown runtime",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) { app.TaskTemplate.Runtime = "wasm" },
			want: []string{"app|runtime|wasm|runtime"},
		},
		{
			name: "host network through the deprecated field",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				//lint:ignore SA1019 the field under test
				app.Networks = []swarm.NetworkAttachmentConfig{{Target: "host"}}
			},
			want: []string{"app|networks|host|host-network"},
		},
		{
			name: "a network of the stack's with the host driver",
			edit: func(st *render.Stack, app *swarm.ServiceSpec) {
				st.Networks["pol_h"] = network.CreateOptions{Driver: "host"}
				app.TaskTemplate.Networks = append(app.TaskTemplate.Networks, swarm.NetworkAttachmentConfig{Target: "pol_h"})
			},
			want: []string{"|networks[pol_h]|driver host|network-driver", "app|networks|pol_h|host-network"},
		},
		{
			name: "ingress and config-from networks",
			edit: func(st *render.Stack, app *swarm.ServiceSpec) {
				st.Networks["pol_mesh"] = network.CreateOptions{Ingress: true}
				st.Networks["pol_lan"] = network.CreateOptions{Driver: "overlay", ConfigFrom: &network.ConfigReference{Network: "lan-config"}}
			},
			want: []string{"|networks[pol_lan]|config-only or config-from|network-driver", "|networks[pol_mesh]|ingress|network-driver"},
		},
		{
			name: "a network nobody declared",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate.Networks = append(app.TaskTemplate.Networks, swarm.NetworkAttachmentConfig{Target: "3f2a"})
			},
			want: []string{"app|networks|3f2a|external-network"},
		},
		{
			name: "cluster and untyped mounts",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate.ContainerSpec.Mounts = []mount.Mount{
					{Type: mount.TypeCluster, Source: "pol_csi", Target: "/c"},
					{Source: "/srv", Target: "/s"},
					{Type: mount.TypeTmpfs, Target: "/tmp"},
					{Type: mount.TypeImage, Source: "swarmrun-probe:2", Target: "/img"},
				}
			},
			want: []string{"app|volumes[0]|cluster pol_csi|mount-type", "app|volumes[1]|no type, source /srv|mount-type"},
		},
		{
			name:  "a relative bind source in the spec",
			allow: fixtures,
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate.ContainerSpec.Mounts = []mount.Mount{{Type: mount.TypeBind, Source: "srv/shared-fixtures", Target: "/f", ReadOnly: true}}
			},
			want: []string{"app|volumes[0]|bind srv/shared-fixtures|bind-mount"},
		},
		{
			name:  "local volume options",
			allow: fixtures,
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				escape := localVolume("pol_escape", map[string]string{"type": "none", "o": "bind", "device": "/srv/shared-fixtures"})
				escape.VolumeOptions.Subpath = "../../var/run"
				escape.ReadOnly = true
				app.TaskTemplate.ContainerSpec.Mounts = []mount.Mount{
					localVolume("pol_odd", map[string]string{"uid": "0"}),
					localVolume("pol_nodevice", map[string]string{"type": "none", "o": "bind"}),
					escape,
					localVolume("pol_rw", map[string]string{"o": "bind", "type": "none", "device": "/srv/shared-fixtures/out"}),
					localVolume("pol_quota", map[string]string{"size": "1G"}),
					localVolume("pol_plain", nil),
					{Type: mount.TypeVolume, Target: "/anon"},
				}
			},
			want: []string{
				"app|volumes[0]|volume pol_odd, option uid|volume-driver",
				"app|volumes[1]|volume pol_nodevice, bind|volume-driver",
				"app|volumes[2]|volume pol_escape, bind /var/run|docker-socket",
				"app|volumes[3]|volume pol_rw, bind /srv/shared-fixtures/out|bind-mount",
			},
		},
		{
			name: "references to objects nobody declared",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate.ContainerSpec.Secrets = []*swarm.SecretReference{{SecretName: "ghost"}}
				app.TaskTemplate.ContainerSpec.Configs = []*swarm.ConfigReference{{ConfigName: "pol_ghost"}}
			},
			want: []string{"app|configs|pol_ghost|external-config", "app|secrets|ghost|external-secret"},
		},
		{
			name: "the stack's declarations: a secret driver, names outside the namespace nobody uses",
			edit: func(st *render.Stack, _ *swarm.ServiceSpec) {
				st.Secrets["pol_vault"] = swarm.SecretSpec{Annotations: swarm.Annotations{Name: "pol_vault"}, Driver: &swarm.Driver{Name: "vault"}}
				st.Secrets["proxy_cert"] = swarm.SecretSpec{Annotations: swarm.Annotations{Name: "proxy_cert"}, Data: []byte("x")}
				st.Configs["traefik_conf"] = swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "traefik_conf"}}
				st.Networks["proxy"] = network.CreateOptions{Driver: "overlay"}
			},
			want: []string{
				"|configs[traefik_conf]|traefik_conf|external-config",
				"|networks[proxy]|proxy|external-network",
				"|secrets[pol_vault]|driver vault|secret-driver",
				"|secrets[proxy_cert]|proxy_cert|external-secret",
			},
		},
		{
			name:  "the stack's declarations outside the namespace, allowed",
			allow: Allow{ExternalSecrets: []string{"proxy_cert"}, ExternalConfigs: []string{"traefik_conf"}, ExternalNetworks: []string{"proxy"}},
			edit: func(st *render.Stack, _ *swarm.ServiceSpec) {
				st.Secrets["proxy_cert"] = swarm.SecretSpec{Annotations: swarm.Annotations{Name: "proxy_cert"}}
				st.Configs["traefik_conf"] = swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "traefik_conf"}}
				st.Networks["proxy"] = network.CreateOptions{Driver: "overlay"}
			},
		},
		{
			name: "log drivers",
			edit: func(st *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate.LogDriver = &swarm.Driver{Name: "gelf", Options: map[string]string{"gelf-address": "udp://10.0.0.1:12201"}}
				for _, name := range []string{"", "json-file", "local", "none"} {
					s := swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "pol_log" + name},
						TaskTemplate: swarm.TaskSpec{LogDriver: &swarm.Driver{Name: name, Options: map[string]string{"max-size": "1m"}}}}
					st.Services[s.Name] = s
				}
			},
			want: []string{"app|logging.driver|gelf|log-driver"},
		},
		{
			name: "named generic resources; limits are fine",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				app.TaskTemplate.Resources = &swarm.ResourceRequirements{
					Limits: &swarm.Limit{NanoCPUs: 1e9, MemoryBytes: 1 << 26, Pids: 100},
					Reservations: &swarm.Resources{GenericResources: []swarm.GenericResource{
						{NamedResourceSpec: &swarm.NamedGenericResource{Kind: "gpu", Value: "GPU-1"}},
					}},
				}
			},
			want: []string{"app|deploy.resources.reservations.generic_resources|gpu=GPU-1|generic-resources"},
		},
		{
			name: "ports without a published number",
			edit: func(_ *render.Stack, app *swarm.ServiceSpec) {
				app.EndpointSpec = &swarm.EndpointSpec{Ports: []swarm.PortConfig{
					{TargetPort: 80}, {TargetPort: 81, PublishMode: swarm.PortConfigPublishModeHost},
				}}
			},
		},
		{
			name: "a service named outside the namespace is named in full",
			edit: func(st *render.Stack, _ *swarm.ServiceSpec) {
				st.Services["other"] = swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "other"},
					TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{CapabilityAdd: []string{"CAP_BPF"}}}}
			},
			want: []string{"other|cap_add|CAP_BPF|cap-add"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Policy{Allow: tt.allow}
			err := Check(specStack(tt.edit), p, Deploy{Recipe: "demo", Role: RoleHead})
			var got []string
			var pe *Error
			if errors.As(err, &pe) {
				got = keys(t, pe.Violations)
			} else if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("violations:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
