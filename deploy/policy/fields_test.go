package policy

import (
	"reflect"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
)

// decided lists, for every type of the spec the check walks, the fields the package
// documentation's table has a decision for. A Docker SDK that adds a field (a Privileged or
// Devices on ContainerSpec, say) fails TestEveryFieldIsDecided until the field is decided:
// add a rule to check.go or say in doc.go why it is harmless, then list it here.
var decided = map[reflect.Type][]string{
	reflect.TypeFor[swarm.ServiceSpec](): {"Annotations", "TaskTemplate", "Mode", "UpdateConfig", "RollbackConfig", "Networks", "EndpointSpec"},
	reflect.TypeFor[swarm.TaskSpec](): {"ContainerSpec", "PluginSpec", "NetworkAttachmentSpec", "Resources", "RestartPolicy",
		"Placement", "Networks", "LogDriver", "ForceUpdate", "Runtime"},
	reflect.TypeFor[swarm.ContainerSpec](): {"Image", "Labels", "Command", "Args", "Hostname", "Env", "Dir", "User", "Groups",
		"Privileges", "Init", "StopSignal", "TTY", "OpenStdin", "ReadOnly", "Mounts", "StopGracePeriod", "Healthcheck",
		"Hosts", "DNSConfig", "Secrets", "Configs", "Isolation", "Sysctls", "CapabilityAdd", "CapabilityDrop", "Ulimits",
		"OomScoreAdj"},
	reflect.TypeFor[swarm.Privileges]():              {"CredentialSpec", "SELinuxContext", "Seccomp", "AppArmor", "NoNewPrivileges"},
	reflect.TypeFor[swarm.ResourceRequirements]():    {"Limits", "Reservations"},
	reflect.TypeFor[swarm.Resources]():               {"NanoCPUs", "MemoryBytes", "GenericResources"},
	reflect.TypeFor[swarm.Limit]():                   {"NanoCPUs", "MemoryBytes", "Pids"},
	reflect.TypeFor[swarm.Placement]():               {"Constraints", "Preferences", "MaxReplicas", "Platforms"},
	reflect.TypeFor[swarm.NetworkAttachmentConfig](): {"Target", "Aliases", "DriverOpts"},
	reflect.TypeFor[swarm.EndpointSpec]():            {"Mode", "Ports"},
	reflect.TypeFor[swarm.PortConfig]():              {"Name", "Protocol", "TargetPort", "PublishedPort", "PublishMode"},
	reflect.TypeFor[mount.Mount](): {"Type", "Source", "Target", "ReadOnly", "Consistency", "BindOptions", "VolumeOptions",
		"ImageOptions", "TmpfsOptions", "ClusterOptions"},
	reflect.TypeFor[mount.VolumeOptions](): {"NoCopy", "Labels", "Subpath", "DriverConfig"},
	reflect.TypeFor[mount.BindOptions](): {"Propagation", "NonRecursive", "CreateMountpoint", "ReadOnlyNonRecursive",
		"ReadOnlyForceRecursive"},
	reflect.TypeFor[network.CreateOptions](): {"Driver", "Scope", "EnableIPv4", "EnableIPv6", "IPAM", "Internal", "Attachable",
		"Ingress", "ConfigOnly", "ConfigFrom", "Options", "Labels"},
	reflect.TypeFor[swarm.SecretSpec](): {"Annotations", "Data", "Driver", "Templating"},
	reflect.TypeFor[swarm.ConfigSpec](): {"Annotations", "Data", "Templating"},
}

func TestEveryFieldIsDecided(t *testing.T) {
	for typ, want := range decided {
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name)
		}
		for _, name := range got {
			if !slices.Contains(want, name) {
				t.Errorf("%s.%s is a new field of the Docker SDK: decide whether it reaches the host (doc.go, check.go), then list it in decided", typ, name)
			}
		}
		for _, name := range want {
			if !slices.Contains(got, name) {
				t.Errorf("%s.%s is gone from the Docker SDK: drop it from decided and from the table in doc.go", typ, name)
			}
		}
	}
}
