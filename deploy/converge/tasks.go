package converge

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

func (j judging) summary(tk swarm.Task) TaskSummary {
	s := TaskSummary{
		ID:           tk.ID,
		Slot:         tk.Slot,
		NodeID:       tk.NodeID,
		Image:        imageOf(tk),
		State:        string(tk.Status.State),
		DesiredState: string(tk.DesiredState),
		Since:        tk.Status.Timestamp,
		Err:          tk.Status.Err,
		UpToDate:     j.o.UpToDate[tk.ID],
	}
	switch {
	case j.unhealthy(tk):
		s.Health = "unhealthy"
	case j.health != nil && tk.Status.State == swarm.TaskStateStarting:
		s.Health = "starting"
	}
	return s
}

func placeOf(tk swarm.Task) string {
	if tk.Slot > 0 {
		return fmt.Sprintf("slot %d", tk.Slot)
	}
	return "node " + shortID(tk.NodeID)
}

// usableNodes are nodes whose tasks count: not down and not drained (a drained node's tasks
// are being moved away).
func usableNodes(nodes []swarm.Node) map[string]bool {
	out := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		out[n.ID] = n.Status.State != swarm.NodeStateDown && n.Spec.Availability != swarm.NodeAvailabilityDrain
	}
	return out
}

func groupBy(tasks []swarm.Task, key func(swarm.Task) string) map[string][]swarm.Task {
	out := map[string][]swarm.Task{}
	for _, tk := range tasks {
		k := key(tk)
		out[k] = append(out[k], tk)
	}
	for _, g := range out {
		sortNewestFirst(g)
	}
	return out
}

// sortNewestFirst orders tasks by creation: the engine creates a replacement after the task it
// replaces, and replacements can wait in desired state "ready", so the newest task of a slot,
// not the one desired running, is the slot's present.
func sortNewestFirst(tasks []swarm.Task) {
	slices.SortStableFunc(tasks, func(a, b swarm.Task) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Version.Index, a.Version.Index); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

func preRunning(s swarm.TaskState) bool {
	switch s {
	case swarm.TaskStateNew, swarm.TaskStateAllocated, swarm.TaskStatePending, swarm.TaskStateAssigned,
		swarm.TaskStateAccepted, swarm.TaskStatePreparing, swarm.TaskStateReady, swarm.TaskStateStarting:
		return true
	}
	return false
}

func live(tk swarm.Task) bool {
	return tk.DesiredState == swarm.TaskStateRunning || tk.DesiredState == swarm.TaskStateReady
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func imageOf(tk swarm.Task) string {
	if cs := tk.Spec.ContainerSpec; cs != nil {
		return cs.Image
	}
	return ""
}

func taskErr(tk swarm.Task) string {
	if tk.Status.Err != "" {
		return tk.Status.Err
	}
	return tk.Status.Message
}

func describeExit(tk swarm.Task) string {
	if cs := tk.Status.ContainerStatus; cs != nil {
		return fmt.Sprintf("exit code %d", cs.ExitCode)
	}
	return string(tk.Status.State)
}
