package fake

import (
	"context"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/system"
)

const nodeAddr = "127.0.0.1"

func (f *Fake) newNode() swarm.Node {
	now := f.clock()
	n := swarm.Node{
		ID:   f.newID(),
		Meta: swarm.Meta{Version: f.bump()},
		Spec: swarm.NodeSpec{
			Annotations:  swarm.Annotations{Labels: map[string]string{}},
			Role:         swarm.NodeRoleManager,
			Availability: swarm.NodeAvailabilityActive,
		},
		Description: swarm.NodeDescription{
			Hostname:  f.hostname,
			Platform:  swarm.Platform{Architecture: "x86_64", OS: "linux"},
			Resources: swarm.Resources{NanoCPUs: 2_000_000_000, MemoryBytes: 8 << 30},
			Engine:    swarm.EngineDescription{EngineVersion: f.version},
		},
		Status:        swarm.NodeStatus{State: swarm.NodeStateReady, Addr: nodeAddr},
		ManagerStatus: &swarm.ManagerStatus{Leader: true, Reachability: swarm.ReachabilityReachable, Addr: nodeAddr + ":2377"},
	}
	n.CreatedAt, n.UpdatedAt = now, now
	return n
}

// Info describes the engine: an active swarm manager with one node.
func (f *Fake) Info(ctx context.Context) (system.Info, error) {
	if err := f.enter(ctx, "Info"); err != nil {
		return system.Info{}, err
	}
	f.lock()
	defer f.unlock()
	running, stopped := 0, 0
	f.eachTask(func(t *task) {
		switch {
		case t.container == nil:
		case t.container.running:
			running++
		default:
			stopped++
		}
	})
	return system.Info{
		ID: f.node.ID, Name: f.hostname, ServerVersion: f.version, OSType: "linux", Architecture: "x86_64", NCPU: 2,
		MemTotal: f.node.Description.Resources.MemoryBytes, Containers: running + stopped, ContainersRunning: running,
		ContainersStopped: stopped, Images: len(f.images), Driver: "overlay2",
		Swarm: swarm.Info{
			NodeID: f.node.ID, NodeAddr: nodeAddr, LocalNodeState: swarm.LocalNodeStateActive, ControlAvailable: true,
			RemoteManagers: []swarm.Peer{{NodeID: f.node.ID, Addr: nodeAddr + ":2377"}}, Nodes: 1, Managers: 1,
			Cluster: &swarm.ClusterInfo{
				ID:   "fakecluster0000000000000",
				Spec: swarm.Spec{Annotations: swarm.Annotations{Name: "default", Labels: map[string]string{}}, Orchestration: swarm.OrchestrationConfig{TaskHistoryRetentionLimit: ptr(int64(taskHistoryRetention))}},
			},
		},
	}, nil
}

// NodeList lists the one node, if it matches the filters.
func (f *Fake) NodeList(ctx context.Context, options swarm.NodeListOptions) ([]swarm.Node, error) {
	if err := f.enter(ctx, "NodeList", options); err != nil {
		return nil, err
	}
	if err := validateFilters(options.Filters, "id", "label", "membership", "name", "node.label", "role"); err != nil {
		return nil, err
	}
	f.lock()
	defer f.unlock()
	a, n := options.Filters, f.node
	if !matchPrefix(a, "id", n.ID) || !matchPrefix(a, "name", n.Description.Hostname) ||
		(a.Contains("role") && !a.ExactMatch("role", string(n.Spec.Role))) ||
		(a.Contains("membership") && !a.ExactMatch("membership", "accepted")) ||
		!a.MatchKVList("node.label", n.Spec.Labels) {
		return []swarm.Node{}, nil
	}
	return []swarm.Node{clone(n)}, nil
}
