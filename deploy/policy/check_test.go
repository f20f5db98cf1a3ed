package policy

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// How a test case provides the stack's external secrets before the check.
const (
	// provideNone checks the stack as rendered (the zero value, named for the reader).
	//lint:ignore U1000 the zero value of a case, named for the reader
	provideNone = iota
	// provideAll generates every external secret, as reconcile/stacks.go does today.
	provideAll
	// provideUnallowed generates only the external secrets the effective policy does not
	// allow: an allowed one is the operator's and stays external.
	provideUnallowed
)

const traefikSource = "https://git.example.org/coop-cloud/traefik.git"

// TestCheckRenderedStacks checks stacks rendered from compose files by docker's own loader
// and converter, so that each rule is tested on what the converter really produces.
func TestCheckRenderedStacks(t *testing.T) {
	head := Deploy{Recipe: "demo", Source: "/srv/recipes/demo", Role: RoleHead}
	socket := []string{"app|volumes[0]|bind /var/run/docker.sock|docker-socket"}
	tests := []struct {
		name    string
		file    string
		provide int
		policy  Policy
		deploy  Deploy // the zero value means head
		want    []string
	}{
		{
			name: "clean stack passes the default policy once its secret is generated",
			file: "clean.yml", provide: provideAll,
		},
		{
			name: "a secret to generate is external until it is provided",
			file: "clean.yml",
			want: []string{"app|secrets|pol_db_password_v1|external-secret"},
		},
		{
			name: "docker socket",
			file: "docker-socket.yml",
			want: socket,
		},
		{
			name: "docker socket under every spelling, whatever the allow-list",
			file: "docker-socket-variants.yml",
			policy: Policy{Allow: Allow{
				BindMounts:         []string{"/srv", "/etc", "/var/lib"},
				WritableBindMounts: []string{"/opt", "/home"},
			}},
			want: []string{
				"app|volumes[0]|bind /var/run//docker.sock|docker-socket",
				"app|volumes[1]|bind /var/run/../run/docker.sock|docker-socket",
				"app|volumes[2]|bind /var/run/./docker.sock|docker-socket",
				"app|volumes[3]|bind /run/docker.sock|docker-socket",
				"app|volumes[4]|bind /var/run|docker-socket",
				"app|volumes[5]|bind /run/|docker-socket",
				"app|volumes[6]|bind /|docker-socket",
				"app|volumes[7]|bind /run/containerd/containerd.sock|docker-socket",
				"app|volumes[8]|bind /proc/1/root|docker-socket",
				"app|volumes[9]|bind /var/run/docker/netns|docker-socket",
			},
		},
		{
			name: "privileged, network_mode, pid, ipc, userns_mode, security_opt, devices never reach the spec",
			file: "dropped-by-converter.yml",
		},
		{
			name: "capabilities beyond the default set",
			file: "capabilities.yml",
			want: []string{
				"admin|cap_add|CAP_NET_ADMIN|cap-add",
				"admin|cap_add|CAP_SYS_ADMIN|cap-add",
				"admin|cap_add|CAP_SYS_PTRACE|cap-add",
				"all|cap_add|ALL|cap-add",
			},
		},
		{
			name: "host network",
			file: "host-network.yml",
			want: []string{"app|networks|host|host-network"},
		},
		{
			name: "relative bind is a host path",
			file: "bind-relative.yml",
			want: []string{"app|volumes[0]|bind " + filepath.Join(composeDir(t), "fixtures") + "|bind-mount"},
		},
		{
			name:   "relative bind under an allowed prefix",
			file:   "bind-relative.yml",
			policy: Policy{Allow: Allow{BindMounts: []string{composeDir(t)}}},
		},
		{
			name:   "long-syntax binds against a read-only prefix",
			file:   "bind-long.yml",
			policy: Policy{Allow: Allow{BindMounts: []string{"/srv/shared-fixtures"}}},
			want: []string{
				"outside|volumes[0]|bind /srv/shared-fixtures-old|bind-mount",
				"outside|volumes[1]|bind /etc|bind-mount",
				"outside|volumes[2]|bind /srv/shared-fixtures/link/../../../etc|bind-mount",
				"writer|volumes[0]|bind /srv/shared-fixtures/out|bind-mount",
			},
		},
		{
			name:   "long-syntax binds against a writable prefix",
			file:   "bind-long.yml",
			policy: Policy{Allow: Allow{WritableBindMounts: []string{"/srv/shared-fixtures"}}},
			want: []string{
				"outside|volumes[0]|bind /srv/shared-fixtures-old|bind-mount",
				"outside|volumes[1]|bind /etc|bind-mount",
				"outside|volumes[2]|bind /srv/shared-fixtures/link/../../../etc|bind-mount",
			},
		},
		{
			name: "volume driver options that mount the host",
			file: "volume-driver.yml",
			want: []string{
				"app|volumes[0]|volume pol_sock, bind /var/run|docker-socket",
				"app|volumes[1]|volume pol_fixtures, bind /srv/shared-fixtures/db|bind-mount",
				"app|volumes[2]|volume pol_nfs, type nfs, device :/exports|volume-driver",
				"app|volumes[3]|volume pol_disk, type ext4, device /dev/sda1|volume-driver",
				"app|volumes[4]|volume pol_plugin, driver rexray/ebs|volume-driver",
			},
		},
		{
			name:   "a read-only volume bind under an allowed prefix",
			file:   "volume-driver.yml",
			policy: Policy{Allow: Allow{BindMounts: []string{"/srv/shared-fixtures"}}},
			want: []string{
				"app|volumes[0]|volume pol_sock, bind /var/run|docker-socket",
				"app|volumes[2]|volume pol_nfs, type nfs, device :/exports|volume-driver",
				"app|volumes[3]|volume pol_disk, type ext4, device /dev/sda1|volume-driver",
				"app|volumes[4]|volume pol_plugin, driver rexray/ebs|volume-driver",
			},
		},
		{
			name: "external secrets before they are provided",
			file: "external-secret.yml",
			want: []string{
				"app|secrets|pol_db_password_v1|external-secret",
				"app|secrets|proxy_cert|external-secret",
			},
		},
		{
			name: "a secret generated under an operator's name is still refused",
			file: "external-secret.yml", provide: provideAll,
			want: []string{"app|secrets|proxy_cert|external-secret"},
		},
		{
			name: "an allowed external secret stays external and passes",
			file: "external-secret.yml", provide: provideUnallowed,
			policy: Policy{Allow: Allow{ExternalSecrets: []string{"proxy_cert"}}},
		},
		{
			name: "explicit names outside the namespace are someone else's",
			file: "named-objects.yml",
			want: []string{
				"app|configs|traefik_conf|external-config",
				"app|networks|proxy|external-network",
				"app|secrets|proxy_cert|external-secret",
				"app|volumes[0]|volume warm-discourse_data|external-volume",
			},
		},
		{
			name: "explicit names outside the namespace, allowed",
			file: "named-objects.yml",
			policy: Policy{Allow: Allow{
				ExternalSecrets:  []string{"proxy_cert"},
				ExternalConfigs:  []string{"traefik_conf"},
				ExternalNetworks: []string{"proxy"},
				ExternalVolumes:  []string{"warm-discourse_data"},
			}},
		},
		{
			name: "external network",
			file: "external-network.yml",
			want: []string{"app|networks|proxy|external-network"},
		},
		{
			name:   "external network allowed at the top level",
			file:   "external-network.yml",
			policy: Policy{Allow: Allow{ExternalNetworks: []string{"proxy"}}},
		},
		{
			name:   "external network allowed by the recipe's section",
			file:   "external-network.yml",
			policy: Policy{Recipes: map[string]RecipeAllow{"traefik": {Allow: Allow{ExternalNetworks: []string{"proxy"}}}}},
			deploy: Deploy{Recipe: "traefik", Role: RoleHead},
		},
		{
			name:   "another recipe's section does not apply",
			file:   "external-network.yml",
			policy: Policy{Recipes: map[string]RecipeAllow{"traefik": {Allow: Allow{ExternalNetworks: []string{"proxy"}}}}},
			want:   []string{"app|networks|proxy|external-network"},
		},
		{
			name: "a section bound to its source applies to that source",
			file: "external-network.yml",
			policy: Policy{Recipes: map[string]RecipeAllow{
				"traefik": {Source: traefikSource, Allow: Allow{ExternalNetworks: []string{"proxy"}}},
			}},
			deploy: Deploy{Recipe: "traefik", Source: traefikSource, Role: RoleHead},
		},
		{
			name: "a section bound to its source does not apply to a Recipe of that name elsewhere",
			file: "external-network.yml",
			policy: Policy{Recipes: map[string]RecipeAllow{
				"traefik": {Source: traefikSource, Allow: Allow{ExternalNetworks: []string{"proxy"}}},
			}},
			deploy: Deploy{Recipe: "traefik", Source: "https://evil.example.org/traefik.git", Role: RoleHead},
			want:   []string{"app|networks|proxy|external-network"},
		},
		{
			name: "external config",
			file: "external-config.yml",
			want: []string{"app|configs|shared_conf|external-config"},
		},
		{
			name:   "external config allowed",
			file:   "external-config.yml",
			policy: Policy{Allow: Allow{ExternalConfigs: []string{"shared_conf"}}},
		},
		{
			name: "external volume",
			file: "external-volume.yml",
			want: []string{"app|volumes[0]|volume operator_backups|external-volume"},
		},
		{
			name:   "external volume allowed",
			file:   "external-volume.yml",
			policy: Policy{Allow: Allow{ExternalVolumes: []string{"operator_backups"}}},
		},
		{
			name: "fixed published ports, ingress and host mode",
			file: "ports.yml",
			want: []string{
				"app|ports|2222:22/tcp host|published-port",
				"app|ports|8080:80/tcp ingress|published-port",
			},
		},
		{
			name:   "an allowed published port",
			file:   "ports.yml",
			policy: Policy{Allow: Allow{PublishedPorts: []int{8080}}},
			want:   []string{"app|ports|2222:22/tcp host|published-port"},
		},
		{
			name: "log driver",
			file: "logging.yml",
			want: []string{"app|logging.driver|syslog|log-driver"},
		},
		{
			name: "generic resources",
			file: "generic-resources.yml",
			want: []string{"app|deploy.resources.reservations.generic_resources|gpu=1|generic-resources"},
		},
		{
			name: "networks the stack creates with a host-bound driver",
			file: "network-driver.yml",
			want: []string{
				"|networks[pol_bridged]|driver bridge|network-driver",
				"|networks[pol_lan]|driver macvlan|network-driver",
			},
		},
		{
			name: "named pipe mount",
			file: "mount-types.yml",
			want: []string{`app|volumes[0]|npipe \\.\pipe\docker_engine|mount-type`},
		},
		{
			name: "credential spec",
			file: "credential-spec.yml",
			want: []string{"app|credential_spec|file gmsa.json|security-options"},
		},
		{
			name:   "a trusted published base skips the check",
			file:   "docker-socket.yml",
			policy: Policy{TrustPublishedBase: true},
			deploy: Deploy{Recipe: "demo", Role: RoleBase, Published: true},
		},
		{
			name:   "a trusted published warm deploy skips the check",
			file:   "docker-socket.yml",
			policy: Policy{TrustPublishedBase: true},
			deploy: Deploy{Recipe: "demo", Role: RoleWarm, Published: true},
		},
		{
			name:   "a branch-tip base is checked even when published bases are trusted",
			file:   "docker-socket.yml",
			policy: Policy{TrustPublishedBase: true},
			deploy: Deploy{Recipe: "demo", Role: RoleBase},
			want:   socket,
		},
		{
			name:   "a head is checked even when it is a published tag",
			file:   "docker-socket.yml",
			policy: Policy{TrustPublishedBase: true},
			deploy: Deploy{Recipe: "demo", Role: RoleHead, Published: true},
			want:   socket,
		},
		{
			name:   "a published base is checked unless the policy trusts it",
			file:   "docker-socket.yml",
			deploy: Deploy{Recipe: "demo", Role: RoleBase, Published: true},
			want:   socket,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.deploy
			if d == (Deploy{}) {
				d = head
			}
			st := renderCompose(t, tt.file)
			switch tt.provide {
			case provideAll:
				provide(t, st, func(string) bool { return false })
			case provideUnallowed:
				provide(t, st, tt.policy.Effective(d.Recipe, d.Source).AllowsSecret)
			}
			err := Check(st, tt.policy, d)
			var got []string
			var pe *Error
			switch {
			case err == nil:
			case errors.As(err, &pe):
				got = keys(t, pe.Violations)
				if !errors.Is(err, ErrDenied) {
					t.Errorf("errors.Is(err, ErrDenied) = false for %v", err)
				}
			default:
				t.Fatalf("Check: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("violations:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestCheckMessage(t *testing.T) {
	st := renderCompose(t, "docker-socket.yml")
	err := Check(st, Default(), Deploy{Recipe: "demo", Role: RoleHead})
	want := "stack pol (head of recipe demo): denied by the deploy policy: " +
		"service app: volumes[0] (bind /var/run/docker.sock): the Docker socket is never mounted (rule docker-socket)"
	if err == nil || err.Error() != want {
		t.Fatalf("Check:\n got %v\nwant %s", err, want)
	}
	var pe *Error
	if !errors.As(err, &pe) || !slices.Equal(pe.Rules(), []string{RuleDockerSocket}) {
		t.Errorf("Rules() = %v, want [%s]", pe.Rules(), RuleDockerSocket)
	}
}

// TestCheckMessagesNameTheCleanedPath: a socket under another spelling says what it is.
func TestCheckMessagesNameTheCleanedPath(t *testing.T) {
	st := renderCompose(t, "docker-socket-variants.yml")
	var pe *Error
	if err := Check(st, Default(), Deploy{Role: RoleHead}); !errors.As(err, &pe) {
		t.Fatalf("Check: %v", err)
	}
	want := map[string]string{
		"volumes[0]": "service app: volumes[0] (bind /var/run//docker.sock): /var/run/docker.sock once cleaned: the Docker socket is never mounted (rule docker-socket)",
		"volumes[4]": "service app: volumes[4] (bind /var/run): it holds the Docker socket /var/run/docker.sock, which is never mounted (rule docker-socket)",
		"volumes[8]": "service app: volumes[8] (bind /proc/1/root): it is inside /proc, which reaches the host's whole tree (the Docker socket too) through /proc/<pid>/root and is never mounted (rule docker-socket)",
		"volumes[9]": "service app: volumes[9] (bind /var/run/docker/netns): it is inside the engine's runtime directory /var/run/docker (its sockets, container namespaces), which is never mounted (rule docker-socket)",
	}
	for _, v := range pe.Violations {
		if w, ok := want[v.Field]; ok && v.String() != w {
			t.Errorf("%s:\n got %s\nwant %s", v.Field, v, w)
		}
	}
}

// TestDroppedKeysAreWarnings pins the premise of the "dropped-by-converter" case: docker's
// converter really drops these keys, and says so, rather than the policy missing them.
func TestDroppedKeysAreWarnings(t *testing.T) {
	st := renderCompose(t, "dropped-by-converter.yml")
	joined := strings.Join(st.Warnings, "\n")
	for _, key := range []string{"privileged", "network_mode", "pid", "ipc", "userns_mode", "security_opt", "devices"} {
		if !strings.Contains(joined, key) {
			t.Errorf("warnings %q do not name %s", st.Warnings, key)
		}
	}
	spec := st.Services["pol_app"]
	if n := len(spec.TaskTemplate.Networks); n != 1 || spec.TaskTemplate.Networks[0].Target != "pol_default" {
		t.Errorf("networks = %+v, want the stack's default network only", spec.TaskTemplate.Networks)
	}
}

func TestCheckNotes(t *testing.T) {
	st := renderCompose(t, "external-network.yml")
	p := Policy{Recipes: map[string]RecipeAllow{
		"traefik": {Source: traefikSource, Allow: Allow{ExternalNetworks: []string{"proxy"}}},
	}}
	err := Check(st, p, Deploy{Recipe: "traefik", Source: "https://evil.example.org/traefik.git", Role: RoleHead})
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("Check: %v", err)
	}
	want := `policy section recipes.traefik not applied: it is for source ` + traefikSource +
		`, the Recipe's source is "https://evil.example.org/traefik.git"`
	if pe.Note != want {
		t.Errorf("Note:\n got %s\nwant %s", pe.Note, want)
	}
	if !strings.HasSuffix(err.Error(), " ["+want+"]") {
		t.Errorf("Error() does not end with the note: %s", err)
	}
}

func TestCheckRefusesWhatItCannotJudge(t *testing.T) {
	st := renderCompose(t, "clean.yml")
	tests := []struct {
		name   string
		st     bool
		policy Policy
		deploy Deploy
		is     error
	}{
		{name: "no stack", policy: Default(), deploy: Deploy{Role: RoleHead}},
		{name: "unknown role", st: true, deploy: Deploy{Role: "canary"}},
		{name: "invalid policy", st: true, policy: Policy{Allow: Allow{BindMounts: []string{"/"}}}, deploy: Deploy{Role: RoleHead}, is: ErrInvalid},
		{name: "invalid policy, trusted deploy", st: true, policy: Policy{TrustPublishedBase: true, Allow: Allow{ExternalNetworks: []string{"host"}}},
			deploy: Deploy{Role: RoleBase, Published: true}, is: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := st
			if !tt.st {
				s = nil
			}
			err := Check(s, tt.policy, tt.deploy)
			if err == nil || errors.Is(err, ErrDenied) {
				t.Fatalf("Check = %v, want an error other than ErrDenied", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}
