package policy

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/docker/cli/opts"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/render"
)

// Check decides whether the stack st may be deployed as d under the policy p. It is meant
// for the final stack, right before apply: after render and after render.Stack.ProvideSecrets,
// so that the secrets swarmrun generates for the run count as the stack's own.
//
// It returns nil when the stack passes or when p trusts d (Policy.Trusts); a *Error with every
// violation (errors.Is(err, ErrDenied)) when it does not; and another error when p is invalid
// (errors.Is(err, ErrInvalid)), d has an unknown role, or st is nil.
func Check(st *render.Stack, p Policy, d Deploy) error {
	if st == nil || st.Name == "" {
		return errors.New("deploy policy: no stack to check")
	}
	if err := d.validate(); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Trusts(d) {
		return nil
	}
	vs := violations(st, p.Effective(d.Recipe, d.Source))
	if len(vs) == 0 {
		return nil
	}
	return &Error{Stack: st.Name, Deploy: d, Violations: vs, Note: p.sectionNote(d.Recipe, d.Source)}
}

// checker walks one stack and collects its violations.
type checker struct {
	st    *render.Stack
	allow Allow
	// prefix is the stack's namespace, "<stack>_": the names of the objects that are its own.
	prefix string
	out    []Violation
	// used are the secrets, configs and networks some service refers to, keyed
	// "<kind>\x00<full name>".
	used map[string]bool
}

// violations are every way st breaks allow and the rules that hold whatever allow says,
// sorted.
func violations(st *render.Stack, allow Allow) []Violation {
	c := &checker{st: st, allow: allow, prefix: st.Name + "_", used: map[string]bool{}}
	for _, full := range slices.Sorted(maps.Keys(st.Services)) {
		name, ok := strings.CutPrefix(full, c.prefix)
		if !ok || name == "" {
			name = full
		}
		c.service(name, st.Services[full])
	}
	c.stackObjects()
	return sortViolations(c.out)
}

func (c *checker) add(service, field, subject, rule, format string, args ...any) {
	c.out = append(c.out, Violation{Service: service, Field: field, Subject: subject, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// own reports whether name is in the stack's namespace. Only such names are the stack's
// alone: apply creates an object under any other name only when none exists, and otherwise
// uses the existing one (deploy/plan.go accepts a secret made by hand unverified). The
// namespaces of two stacks never overlap because swarmrun's stack names are DNS labels,
// which have no "_".
func (c *checker) own(name string) bool {
	return strings.HasPrefix(name, c.prefix) && len(name) > len(c.prefix)
}

func (c *checker) service(name string, spec swarm.ServiceSpec) {
	tt := spec.TaskTemplate
	c.runtime(name, tt)
	for _, n := range tt.Networks {
		c.network(name, n.Target)
	}
	//lint:ignore SA1019 the deprecated field still attaches networks on the engine.
	for _, n := range spec.Networks {
		c.network(name, n.Target)
	}
	if r := tt.Resources; r != nil && r.Reservations != nil {
		for _, g := range r.Reservations.GenericResources {
			c.add(name, "deploy.resources.reservations.generic_resources", genericName(g), RuleGenericResources,
				"generic resources hand node devices (GPUs and the like) to the container and are never allowed")
		}
	}
	if ld := tt.LogDriver; ld != nil && !harmlessLogDriver(ld.Name) {
		c.add(name, "logging.driver", ld.Name, RuleLogDriver,
			"log driver %s runs in the engine on the host and reaches what the host reaches (its sockets, its network, its credentials); only json-file, local and none are allowed", ld.Name)
	}
	if ep := spec.EndpointSpec; ep != nil {
		for _, port := range ep.Ports {
			c.port(name, port)
		}
	}
	cs := tt.ContainerSpec
	if cs == nil {
		return
	}
	for i, m := range cs.Mounts {
		c.mount(name, fmt.Sprintf("volumes[%d]", i), m)
	}
	for _, ref := range cs.Secrets {
		if ref != nil {
			c.secret(name, ref.SecretName)
		}
	}
	for _, ref := range cs.Configs {
		if ref != nil {
			c.config(name, ref.ConfigName)
		}
	}
	c.capabilities(name, cs.CapabilityAdd)
	c.privileges(name, cs.Privileges)
	if cs.OomScoreAdj < 0 {
		c.add(name, "oom_score_adj", strconv.FormatInt(cs.OomScoreAdj, 10), RuleOOMScoreAdj,
			"a negative OOM score makes the kernel kill the host's own processes before this container's")
	}
}

func (c *checker) runtime(name string, tt swarm.TaskSpec) {
	switch {
	case tt.PluginSpec != nil:
		c.add(name, "runtime", "plugin "+tt.PluginSpec.Name, RuleRuntime,
			"a plugin task installs an engine plugin, which runs with the host's privileges")
	case tt.NetworkAttachmentSpec != nil:
		c.add(name, "runtime", "network attachment", RuleRuntime,
			"network attachment tasks are the engine's own; only container tasks are allowed")
	case tt.Runtime != "" && tt.Runtime != swarm.RuntimeContainer:
		c.add(name, "runtime", string(tt.Runtime), RuleRuntime,
			"only container tasks are allowed, and runtime %s is not one", tt.Runtime)
	}
}

func genericName(g swarm.GenericResource) string {
	switch {
	case g.DiscreteResourceSpec != nil:
		return fmt.Sprintf("%s=%d", g.DiscreteResourceSpec.Kind, g.DiscreteResourceSpec.Value)
	case g.NamedResourceSpec != nil:
		return g.NamedResourceSpec.Kind + "=" + g.NamedResourceSpec.Value
	}
	return "empty"
}

// harmlessLogDriver: the drivers that only write files in the engine's own directory, or
// nothing. "" is the cluster's default, which the operator chose.
func harmlessLogDriver(name string) bool {
	switch name {
	case "", "json-file", "local", "none":
		return true
	}
	return false
}

func (c *checker) port(name string, port swarm.PortConfig) {
	if port.PublishedPort == 0 || slices.Contains(c.allow.PublishedPorts, int(port.PublishedPort)) {
		return
	}
	mode := port.PublishMode
	if mode == "" {
		mode = swarm.PortConfigPublishModeIngress
	}
	proto := port.Protocol
	if proto == "" {
		proto = swarm.PortConfigProtocolTCP
	}
	c.add(name, "ports", fmt.Sprintf("%d:%d/%s %s", port.PublishedPort, port.TargetPort, proto, mode), RulePublishedPort,
		"published port %d is not in the policy's publishedPorts: a fixed port is taken on every node of the shared swarm, in front of whatever the host serves there", port.PublishedPort)
}

func (c *checker) network(service, target string) {
	c.used["network\x00"+target] = true
	opts, declared := c.st.Networks[target]
	switch {
	case target == network.NetworkHost || (declared && opts.Driver == network.NetworkHost):
		c.add(service, "networks", target, RuleHostNetwork,
			"the host network shares the host's network stack (every interface and listening port) and is never allowed")
	case declared && c.own(target):
	case slices.Contains(c.allow.ExternalNetworks, target):
	case declared:
		c.add(service, "networks", target, RuleExternalNetwork,
			"network %s is outside the stack's namespace %s (an existing network of that name would be joined) and not in the policy's externalNetworks", target, c.prefix)
	case slices.Contains(c.st.ExternalNetworks, target):
		c.add(service, "networks", target, RuleExternalNetwork,
			"external network %s is not in the policy's externalNetworks", target)
	default:
		c.add(service, "networks", target, RuleExternalNetwork,
			"network %s is not declared by the stack and not in the policy's externalNetworks", target)
	}
}

func (c *checker) secret(service, name string) {
	c.used["secret\x00"+name] = true
	_, declared := c.st.Secrets[name]
	c.object(service, "secrets", "secret", name, declared, c.st.ExternalSecrets, c.allow.ExternalSecrets, RuleExternalSecret, "externalSecrets")
}

func (c *checker) config(service, name string) {
	c.used["config\x00"+name] = true
	_, declared := c.st.Configs[name]
	c.object(service, "configs", "config", name, declared, c.st.ExternalConfigs, c.allow.ExternalConfigs, RuleExternalConfig, "externalConfigs")
}

// object checks a service's use of a secret or config: the stack's own (declared by it and
// in its namespace, including the secrets generated for the run) or allowed by name.
func (c *checker) object(service, field, kind, name string, declared bool, external, allowed []string, rule, list string) {
	switch {
	case declared && c.own(name):
	case slices.Contains(allowed, name):
	case declared:
		c.add(service, field, name, rule,
			"%s %s is outside the stack's namespace %s (an existing %s of that name would be used) and not in the policy's %s", kind, name, c.prefix, kind, list)
	case slices.Contains(external, name):
		c.add(service, field, name, rule, "external %s %s is not in the policy's %s", kind, name, list)
	default:
		c.add(service, field, name, rule, "%s %s is not declared by the stack and not in the policy's %s", kind, name, list)
	}
}

// defaultCapabilities are the capabilities the engine gives every container (moby
// oci/caps.DefaultCapabilities, the same list since Docker 1.x). Adding one of them changes
// nothing, which is how a hardened service reads: cap_drop: [ALL], cap_add: [CHOWN].
var defaultCapabilities = []string{
	"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID",
	"CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
}

func (c *checker) capabilities(service string, add []string) {
	for _, raw := range add {
		capability := opts.NormalizeCapability(raw)
		switch {
		case capability == opts.AllCapabilities:
			c.add(service, "cap_add", capability, RuleCapAdd,
				"ALL grants every capability, which is root on the host in all but name; capabilities beyond Docker's default set are never added")
		case capability == opts.ResetCapabilities:
		case !slices.Contains(defaultCapabilities, capability):
			c.add(service, "cap_add", capability, RuleCapAdd,
				"%s is not in Docker's default capability set; capabilities beyond it are never added", capability)
		}
	}
}

func (c *checker) privileges(service string, p *swarm.Privileges) {
	if p == nil {
		return
	}
	if cs := p.CredentialSpec; cs != nil && *cs != (swarm.CredentialSpec{}) {
		c.add(service, "credential_spec", credentialSpecName(cs), RuleSecurityOptions,
			"a credential spec gives the container an identity of the host (a Windows gMSA) and is never allowed")
	}
	if se := p.SELinuxContext; se != nil && *se != (swarm.SELinuxContext{}) {
		var parts []string
		if se.Disable {
			parts = append(parts, "disable")
		}
		for _, kv := range [][2]string{{"user", se.User}, {"role", se.Role}, {"type", se.Type}, {"level", se.Level}} {
			if kv[1] != "" {
				parts = append(parts, kv[0]+"="+kv[1])
			}
		}
		subject := strings.Join(parts, " ")
		c.add(service, "privileges.selinux", subject, RuleSecurityOptions,
			"an SELinux context other than the engine's default can lift the container's confinement and is never allowed")
	}
	if sc := p.Seccomp; sc != nil {
		switch {
		case sc.Mode == swarm.SeccompModeUnconfined:
			c.add(service, "privileges.seccomp", string(sc.Mode), RuleSecurityOptions,
				"an unconfined container may make every system call and is never allowed")
		case sc.Mode == swarm.SeccompModeCustom || len(sc.Profile) > 0:
			c.add(service, "privileges.seccomp", "custom profile", RuleSecurityOptions,
				"a custom seccomp profile may allow any system call and is never allowed")
		}
	}
	if aa := p.AppArmor; aa != nil && aa.Mode == swarm.AppArmorModeDisabled {
		c.add(service, "privileges.apparmor", string(aa.Mode), RuleSecurityOptions,
			"a container without the engine's AppArmor profile is never allowed")
	}
}

func credentialSpecName(cs *swarm.CredentialSpec) string {
	switch {
	case cs.Config != "":
		return "config " + cs.Config
	case cs.File != "":
		return "file " + cs.File
	}
	return "registry " + cs.Registry
}

// localVolumeOptions are the options of the engine's local volume driver; it refuses others.
var localVolumeOptions = []string{"device", "o", "size", "type"}

func (c *checker) mount(service, field string, m mount.Mount) {
	switch m.Type {
	case mount.TypeBind:
		c.hostPath(service, field, "bind "+m.Source, m.Source, m.ReadOnly)
	case mount.TypeVolume:
		c.volume(service, field, m)
	case mount.TypeTmpfs, mount.TypeImage:
	default:
		subject := string(m.Type) + " " + m.Source
		if m.Type == "" {
			subject = "no type, source " + m.Source
		}
		c.add(service, field, subject, RuleMountType,
			"only bind, volume, tmpfs and image mounts are allowed: a %q mount reaches the host (a named pipe, a cluster volume plugin) or is unknown to the policy", m.Type)
	}
}

func (c *checker) volume(service, field string, m mount.Mount) {
	subject := "volume " + m.Source
	if m.Source == "" {
		subject = "anonymous volume"
	}
	if m.Source != "" && !c.own(m.Source) && !slices.Contains(c.allow.ExternalVolumes, m.Source) {
		c.add(service, field, subject, RuleExternalVolume,
			"volume %s is outside the stack's namespace %s (an existing volume of that name would be mounted, another stack's data included) and not in the policy's externalVolumes", m.Source, c.prefix)
	}
	if m.VolumeOptions == nil || m.VolumeOptions.DriverConfig == nil {
		return
	}
	dc := m.VolumeOptions.DriverConfig
	if dc.Name != "" && dc.Name != "local" {
		c.add(service, field, subject+", driver "+dc.Name, RuleVolumeDriver,
			"volume driver %s is a plugin, which runs with the host's privileges; only the local driver is allowed", dc.Name)
		return
	}
	for _, k := range slices.Sorted(maps.Keys(dc.Options)) {
		if !slices.Contains(localVolumeOptions, k) {
			c.add(service, field, subject+", option "+k, RuleVolumeDriver,
				"the local volume driver has no option %s", k)
		}
	}
	typ, device := dc.Options["type"], dc.Options["device"]
	mountOpts := strings.Split(dc.Options["o"], ",")
	bind := slices.Contains(mountOpts, "bind") || slices.Contains(mountOpts, "rbind") || typ == "none"
	switch {
	case bind && device == "":
		c.add(service, field, subject+", bind", RuleVolumeDriver,
			"a local volume that binds must name its host path in device")
	case bind:
		host := device
		if m.VolumeOptions.Subpath != "" {
			host = path.Join(device, m.VolumeOptions.Subpath)
		}
		c.hostPath(service, field, subject+", bind "+host, host, m.ReadOnly || slices.Contains(mountOpts, "ro"))
	case typ == "" && device == "" && dc.Options["o"] == "", typ == "tmpfs":
		// A plain volume with at most a size, or one in memory.
	default:
		c.add(service, field, fmt.Sprintf("%s, type %s, device %s", subject, typ, device), RuleVolumeDriver,
			"a local volume that mounts a device or a network filesystem runs that mount on the host and is never allowed")
	}
}

// hostPath checks a host path that a mount binds: never an engine path, and otherwise only
// under the allow-list, with no "..", writable only where writable binds are allowed.
func (c *checker) hostPath(service, field, subject, p string, readOnly bool) {
	if !path.IsAbs(p) {
		c.add(service, field, subject, RuleBindMount, "host path %q is not absolute", p)
		return
	}
	clean := path.Clean(p)
	if reason := engineReason(clean); reason != "" {
		if clean != p {
			reason = clean + " once cleaned: " + reason
		}
		c.add(service, field, subject, RuleDockerSocket, "%s", reason)
		return
	}
	switch {
	case hasDotDot(p):
		c.add(service, field, subject, RuleBindMount,
			"a host path with \"..\" is refused: the host resolves it through symlinks, which the policy cannot see")
	case underAny(c.allow.WritableBindMounts, clean):
	case underAny(c.allow.BindMounts, clean) && readOnly:
	case underAny(c.allow.BindMounts, clean):
		c.add(service, field, subject, RuleBindMount,
			"%s is allowed read-only only (bindMounts); a writable bind needs writableBindMounts", clean)
	default:
		c.add(service, field, subject, RuleBindMount,
			"host path %s is not under any of the policy's bindMounts", clean)
	}
}

// stackObjects checks what the stack itself declares: the networks it creates, the secrets
// and configs it creates or provides, whether or not a service uses them.
func (c *checker) stackObjects() {
	for _, name := range slices.Sorted(maps.Keys(c.st.Networks)) {
		opts := c.st.Networks[name]
		field := "networks[" + name + "]"
		switch {
		case opts.Driver != "" && opts.Driver != render.DefaultNetworkDriver:
			c.add("", field, "driver "+opts.Driver, RuleNetworkDriver,
				"a network with driver %s is not confined to the swarm's overlay (host, bridge, macvlan and ipvlan reach the host's interfaces); only overlay networks are created", opts.Driver)
		case opts.Ingress:
			c.add("", field, "ingress", RuleNetworkDriver, "an ingress network replaces the swarm's routing mesh and is never created")
		case opts.ConfigOnly || opts.ConfigFrom != nil:
			c.add("", field, "config-only or config-from", RuleNetworkDriver,
				"config-only networks carry a host-bound driver's configuration (macvlan, ipvlan) and are never created or used")
		}
		if !c.own(name) && !c.used["network\x00"+name] && !slices.Contains(c.allow.ExternalNetworks, name) {
			c.add("", field, name, RuleExternalNetwork,
				"network %s is outside the stack's namespace %s (an existing network of that name would be taken over) and not in the policy's externalNetworks", name, c.prefix)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.st.Secrets)) {
		field := "secrets[" + name + "]"
		if d := c.st.Secrets[name].Driver; d != nil && d.Name != "" {
			c.add("", field, "driver "+d.Name, RuleSecretDriver,
				"secret driver %s is a plugin that fetches the value from outside the swarm and is never allowed", d.Name)
		}
		if !c.own(name) && !c.used["secret\x00"+name] && !slices.Contains(c.allow.ExternalSecrets, name) {
			c.add("", field, name, RuleExternalSecret,
				"secret %s is outside the stack's namespace %s (it would take the name of an operator's secret) and not in the policy's externalSecrets", name, c.prefix)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.st.Configs)) {
		if !c.own(name) && !c.used["config\x00"+name] && !slices.Contains(c.allow.ExternalConfigs, name) {
			c.add("", "configs["+name+"]", name, RuleExternalConfig,
				"config %s is outside the stack's namespace %s (it would take the name of an operator's config) and not in the policy's externalConfigs", name, c.prefix)
		}
	}
}
