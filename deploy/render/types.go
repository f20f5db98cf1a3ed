package render

import (
	composetypes "github.com/docker/cli/cli/compose/types"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"gopkg.in/yaml.v3"
)

// Config is a merged compose configuration as docker's loader makes it: what
// `docker stack config` prints, and what the converter turns into swarm objects.
type Config = composetypes.Config

// NetworkConfig is a network of a merged compose configuration.
type NetworkConfig = composetypes.NetworkConfig

// Options are the inputs of one render.
type Options struct {
	// Stack is the stack name: objects are scoped "<stack>_<key>" and labelled
	// com.docker.stack.namespace=<stack>.
	Stack string
	// Dir is the directory relative Files resolve against; empty means the current
	// directory. As in `docker stack deploy`, env_file entries, file-based secrets and
	// configs and bind mounts resolve against the directory of the first file (Dir itself
	// when there are only overlays), which is Dir for the usual recipe layout.
	//
	// Dir also confines what a render reads, unless HostPaths is set: Files, env_file
	// entries and secret and config files must lie inside Dir once symlinks are resolved on
	// disk, or the render is refused (confine.ErrUnsafe). Bind mounts are not read by a render; a
	// deploy policy judges them.
	Dir string
	// HostPaths lets a render read files anywhere on the host, as `docker stack deploy`
	// does: for an operator's own compose files (swarmrun stack deploy). A recipe is never
	// rendered with it.
	HostPaths bool
	// Files are the compose files, merged in order (later overrides earlier), as
	// `docker stack deploy -c a -c b` and COMPOSE_FILE do. See ComposeFiles.
	Files []string
	// Overlays are inline compose fragments (YAML or JSON documents) merged after Files, in
	// order, and interpolated like them; errors call the i-th one "overlay[i]". A fragment
	// without a version key takes the version of the first document.
	Overlays [][]byte
	// Env is the whole environment for interpolation (including ${VAR:-default}) and for
	// valueless `environment:` entries and env_file lines. Nothing else is consulted: pass
	// the process environment explicitly to get docker's behaviour.
	Env map[string]string
	// Adjust, when set, changes the merged configuration after it is loaded and before it
	// is converted. It is the one place where swarmrun's own conventions (deploy/stack: image
	// overrides, the app env, networks a run creates) touch a render, so that the
	// configuration a render prints (Stack.ComposeYAML) and the swarm objects it applies
	// stay one. Its error fails the render as it is.
	Adjust func(*Config) error
}

// ObjectSource says where a secret or config is declared.
type ObjectSource struct {
	// Key is the compose key (the name services refer to it by).
	Key string
	// File and Line are where the last source that writes its name writes it (or, without
	// a written name, where the key is declared).
	File string
	Line int
	// Written is the name as written, before interpolation
	// ("${STACK_NAME}_orchid_client_secret_${SECRET_ORCID_CLIENT_SECRET_VERSION:-v1}"); empty
	// when the name is docker's default, <stack>_<key>.
	Written string
}

// Stack is the rendered desired state of one stack: the objects `docker stack deploy` would
// create or update for the same input, with the same names, labels and specs.
//
// Secret data is never printed: String, GoString and MarshalJSON replace it by its digest.
type Stack struct {
	// Name is the stack name (Options.Stack), the value of com.docker.stack.namespace.
	Name string
	// Networks to create when missing, keyed by their full (scoped or explicit) name.
	// Driver is filled in (DefaultNetworkDriver) as docker does when it creates them.
	Networks map[string]network.CreateOptions
	// ExternalNetworks must already exist (sorted). docker checks only the user-defined
	// ones (see ExternalNetworksToCheck): built-in networks such as "host" always exist.
	ExternalNetworks []string
	// Secrets and Configs to create, keyed by their full name, data included.
	Secrets map[string]swarm.SecretSpec
	Configs map[string]swarm.ConfigSpec
	// ExternalSecrets and ExternalConfigs must already exist (full names, sorted).
	ExternalSecrets []string
	ExternalConfigs []string
	// Volumes are the stack's named volumes that services mount (full names, sorted). The
	// engine creates them, labelled with the namespace, when a task first mounts them.
	Volumes []string
	// ExternalVolumes are named volumes declared external that services mount (sorted).
	ExternalVolumes []string
	// Services keyed by their full name ("<stack>_<service>"). Their secret and config
	// references carry names but empty IDs until the apply step fills them in.
	Services map[string]swarm.ServiceSpec
	// Images maps each service's full name to the image string as written in compose
	// (after interpolation), the value of the com.docker.stack.image label.
	Images map[string]string
	// Digest is a stable sha256 over the rendered objects: equal inputs give equal digests.
	Digest string
	// Warnings are the options docker ignores (unsupported or deprecated), as it would
	// print them. They do not take part in Digest.
	Warnings []string
	// SecretSources says, for each external secret (full name, as in ExternalSecrets),
	// where it is declared and how its name is written. A run generates the secret under
	// that name: the variables its written name reads (its version variable) carry the
	// hints of its value. It does not take part in Digest.
	SecretSources map[string]ObjectSource
	// ConfigSources says the same of every config (full name) the stack declares. It does
	// not take part in Digest.
	ConfigSources map[string]ObjectSource

	// config is the merged configuration the objects were converted from (after Adjust),
	// as a YAML document taken before the conversion, which writes labels into its maps.
	config *yaml.Node
}
