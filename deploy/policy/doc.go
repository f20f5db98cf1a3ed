// Package policy decides whether a rendered stack may be deployed on the shared swarm: what
// a recipe's head (anyone's pull request) may reach beyond its own stack. It owns the
// operator's policy file (Parse, Load, Validate), the merge of a Recipe's section onto the
// top level (Policy.Effective), the trust of published bases (Policy.Trusts) and the check
// itself (Check), which returns every violation at once, each with its service, field and
// rule ID.
//
// The deploy pipeline calls Check on the final stack, after render.Render and
// render.Stack.ProvideSecrets and right before apply, for every deploy (base, head, warm):
// the secrets swarmrun generates for a run are then the stack's own, and nothing can change
// the stack between the check and the engine.
//
// policy must not call an engine, read files other than the one Load is given, log, or
// change the stack it checks. It judges strings: it cannot see the host's symlinks, which is
// why ".." is refused in host paths and why writable binds have their own allow-list.
//
// # The stack's own objects
//
// A stack's own objects are those named in its namespace, "<stack>_…": what compose declares
// without an explicit name, and the external secrets ProvideSecrets turned into generated
// ones (recipes name them ${STACK_NAME}_<key>_<version>). Any other name is someone else's,
// even when the stack declares it without external: true, because apply creates an object
// only when none of that name exists and otherwise uses the existing one (a secret made by
// hand is accepted unverified). Such names need the policy's externalSecrets,
// externalConfigs, externalNetworks or externalVolumes.
//
// # Decisions, field by field
//
// Every field of swarm.ServiceSpec (engine API 1.41 as converted by docker/cli's compose
// converter, and the later fields the SDK carries) has a decision, and so has every field
// of the networks, secrets and configs a stack declares; TestEveryFieldIsDecided fails when
// the SDK grows a field that is not listed here.
//
//	field                                   rule               why
//	Mounts[].Type bind                      bind-mount         a host path; only under bindMounts (read-only) or writableBindMounts
//	Mounts bind/device path                 docker-socket      the Docker socket (/run or /var/run/docker.sock), a directory that holds it,
//	                                                           /run/docker, /run/containerd (and under /var/run), /proc: never
//	Mounts[].Type volume, local driver      bind-mount         o: bind / rbind or type: none binds device (joined with Subpath): a host path
//	  with type/device/o                    volume-driver      any other type (nfs, cifs, ext4, overlay, ...) mounts on the host; tmpfs and
//	                                                           size alone are fine
//	Mounts[].VolumeOptions.DriverConfig     volume-driver      a driver other than local is a plugin, with the host's privileges
//	Mounts[].Source (volume)                external-volume    a name outside the namespace mounts an existing volume: another stack's data
//	Mounts[].Type npipe, cluster, other     mount-type         a host named pipe (the Windows engine socket), a CSI plugin's volume
//	Mounts[].Type tmpfs, image              allowed            memory, or an image's files: nothing of the host
//	Mounts[].BindOptions, ReadOnly,         allowed            propagation needs CAP_SYS_ADMIN to matter; read-only is stricter; the rest
//	  Consistency, TmpfsOptions,                               shapes a mount the rules above already admitted
//	  ImageOptions, VolumeOptions.NoCopy,
//	  VolumeOptions.Labels
//	Secrets[].SecretName                    external-secret    not the stack's own and not in externalSecrets
//	Configs[].ConfigName                    external-config    not the stack's own and not in externalConfigs
//	TaskTemplate.Networks, Networks         external-network   not the stack's own and not in externalNetworks
//	  (deprecated field too)                host-network       the network named host, or one with driver host: never
//	Networks[].Aliases, DriverOpts          allowed            names and endpoint options on a network already admitted
//	CapabilityAdd                           cap-add            anything beyond Docker's default set (ALL included): never
//	CapabilityDrop                          allowed            stricter
//	Privileges.Seccomp                      security-options   unconfined or custom: never (default is fine)
//	Privileges.AppArmor                     security-options   disabled: never (default is fine)
//	Privileges.SELinuxContext               security-options   any label, or disable: never
//	Privileges.CredentialSpec               security-options   a host identity (Windows gMSA): never
//	Privileges.NoNewPrivileges              allowed            stricter
//	OomScoreAdj                             oom-score-adj      negative: the host's processes die first (compose's oom_score_adj never
//	                                                           reaches the spec: docker's loader drops it; the field is checked anyway)
//	Resources.Reservations.GenericResources generic-resources  node devices (GPUs): never
//	Resources limits and other reservations allowed            limits bound the container (Pids too)
//	TaskTemplate.Runtime, PluginSpec,       runtime            only container tasks: a plugin task installs an engine plugin
//	  NetworkAttachmentSpec
//	TaskTemplate.LogDriver                  log-driver         only json-file, local, none or the cluster default: other drivers run in the
//	                                                           engine on the host and reach its sockets, network and credentials
//	EndpointSpec.Ports[].PublishedPort      published-port     a fixed port (ingress or host mode) only from publishedPorts: it is taken on
//	                                                           every node, in front of what the host serves (sshd, a proxy); a port
//	                                                           without a number (swarm picks one from 30000-32767) is fine
//	Isolation                               allowed            Windows only; a Linux engine refuses anything but default
//	Sysctls                                 allowed            the engine and runc accept only namespaced ones (net.*, kernel.shm*, ...)
//	Ulimits                                 allowed            limits of the container's own processes
//	Image, Command, Args, Env, Dir, User,   allowed            the container's own business; root in a container without added
//	  Groups, Hostname, Hosts, DNSConfig,                      capabilities is Docker's default confinement
//	  Labels, Init, TTY, OpenStdin,
//	  ReadOnly, StopSignal,
//	  StopGracePeriod, Healthcheck
//	Placement, Mode, UpdateConfig,          allowed            scheduling: which nodes, how many, how to roll out
//	  RollbackConfig, RestartPolicy,
//	  EndpointSpec.Mode, Ports[].Name,
//	  ForceUpdate, Annotations
//	stack networks: Driver, Ingress,        network-driver     only overlay (or unset) networks: host, bridge, macvlan, ipvlan reach the
//	  ConfigOnly, ConfigFrom                                   host's interfaces; an ingress network replaces the routing mesh
//	stack networks: Scope, EnableIPv4/6,    allowed            the overlay's own addressing and reach
//	  IPAM, Internal, Attachable, Options,
//	  Labels
//	stack secrets: Driver                   secret-driver      a plugin that fetches the value from outside the swarm
//	stack secrets/configs: Data, Templating allowed            the stack's own content; a template sees only what the service references
//	stack secrets/configs/networks          external-*         an own object named outside the namespace, used by no service, would take
//	                                                           the name of an operator's object
//
// Compose fields that docker's converter drops, with a warning, and that therefore never
// reach the engine through a stack: privileged, network_mode (including host), pid (host),
// ipc (host), userns_mode, security_opt, devices, cgroup_parent, cgroupns_mode, shm_size.
// Engine API 1.41 to 1.51 have no service field for any of them; a stack reaches the host
// network only by joining the network named host, which is refused.
//
// Not covered: the host files a render reads (file-based secrets and configs, env_file) are
// read on the controller's host before a stack exists, and a stack keeps their content, not
// their paths; confining them belongs to the render. Labels that a shared reverse proxy
// reads (routing rules on the proxy network) are not judged.
package policy
