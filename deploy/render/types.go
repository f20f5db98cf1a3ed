package render

import (
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
)

// Options are the inputs of one render.
type Options struct {
	// Stack is the stack name: objects are scoped "<stack>_<key>" and labelled
	// com.docker.stack.namespace=<stack>.
	Stack string
	// Dir is the working directory: relative compose files, env_file and file-based secrets
	// and configs resolve against it.
	Dir string
	// Files are the compose files, merged in order (later overrides earlier), as
	// `docker stack deploy -c a -c b` and COMPOSE_FILE do.
	Files []string
	// Overlays are inline compose fragments (YAML or JSON documents) merged after Files, in order.
	Overlays [][]byte
	// Env is the whole environment for interpolation. Nothing else is consulted.
	Env map[string]string
}

// Stack is the rendered desired state of one stack.
type Stack struct {
	Name string
	// Networks to create when missing, keyed by their full (scoped or explicit) name.
	Networks map[string]network.CreateOptions
	// ExternalNetworks must already exist.
	ExternalNetworks []string
	// Secrets and Configs to create, keyed by their full name.
	Secrets map[string]swarm.SecretSpec
	Configs map[string]swarm.ConfigSpec
	// ExternalSecrets and ExternalConfigs must already exist (full names).
	ExternalSecrets []string
	ExternalConfigs []string
	// Volumes are the named volumes the stack's services mount (full names).
	Volumes []string
	// Services keyed by their full name ("<stack>_<service>").
	Services map[string]swarm.ServiceSpec
	// Images maps each service's full name to the image string as written in compose.
	Images map[string]string
	// Digest is a stable sha256 over the rendered objects: equal inputs give equal digests.
	Digest string
}
