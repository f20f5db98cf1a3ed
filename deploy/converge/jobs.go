package converge

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/swarm"
)

func (j judging) replicatedJob(v *Verdict) {
	rj := j.o.Service.Spec.Mode.ReplicatedJob
	v.Desired = 1
	if rj.TotalCompletions != nil {
		v.Desired = int(*rj.TotalCompletions)
	} else if rj.MaxConcurrent != nil {
		v.Desired = int(*rj.MaxConcurrent)
	}
	cur := j.current()
	j.judgeJob(v, groupBy(cur, func(tk swarm.Task) string { return fmt.Sprintf("%09d", tk.Slot) }), cur)
}

func (j judging) globalJob(v *Verdict) {
	cur := j.current()
	groups := groupBy(cur, func(tk swarm.Task) string { return tk.NodeID })
	// The engine creates a global job's tasks on all eligible nodes at once, so the nodes
	// holding tasks of this iteration are the ones that must complete.
	v.Desired = len(groups)
	j.judgeJob(v, groups, cur)
}

func (j judging) judgeJob(v *Verdict, groups map[string][]swarm.Task, cur []swarm.Task) {
	completed := 0
	for _, tk := range cur {
		if tk.Status.State == swarm.TaskStateComplete {
			completed++
		}
	}
	if j.o.Service.Spec.Mode.GlobalJob != nil {
		completed = 0
		for _, tasks := range groups {
			if tasks[0].Status.State == swarm.TaskStateComplete {
				completed++
			}
		}
	}
	v.Running = completed
	var waiting []string
	for _, key := range slices.Sorted(maps.Keys(groups)) {
		tasks := groups[key]
		newest := tasks[0]
		if newest.Status.State == swarm.TaskStateComplete {
			continue
		}
		if w := j.failOrWait(v, tasks, true); w != "" {
			waiting = append(waiting, w)
		}
	}
	switch {
	case v.Phase == PhaseFailed:
	case len(cur) == 0 || v.Desired == 0:
		v.Phase, v.Message = PhasePending, "waiting for tasks of the current job iteration"
	case completed >= v.Desired:
		v.Phase, v.Message = PhaseConverged, fmt.Sprintf("%d/%d completed", completed, v.Desired)
	default:
		v.Phase = PhaseConverging
		v.Message = fmt.Sprintf("%d/%d completed", completed, v.Desired)
		if len(waiting) > 0 {
			v.Message += "; " + strings.Join(waiting, "; ")
		}
	}
}
