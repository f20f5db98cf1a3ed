package servicemode

import "github.com/docker/docker/api/types/swarm"

// Name is replicated (also when the mode is unset, as the engine defaults it), global,
// replicated-job or global-job.
func Name(m swarm.ServiceMode) string {
	switch {
	case m.Global != nil:
		return "global"
	case m.ReplicatedJob != nil:
		return "replicated-job"
	case m.GlobalJob != nil:
		return "global-job"
	default:
		return "replicated"
	}
}
