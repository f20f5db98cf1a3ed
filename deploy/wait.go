package deploy

import (
	"context"

	"github.com/swarmrun/swarmrun/deploy/converge"
)

// WaitOptions tune Wait: the bound, poll interval, stability window and progress callback of
// converge.Wait. A nil Now takes the Deployer's clock.
type WaitOptions = converge.Options

// Wait waits until every service of the change set has converged, one fails, or the bound
// passes (see converge.Wait). Each service is judged against the version Apply observed
// before touching it, so an update state left from an earlier rollout does not count, and a
// service Apply left unchanged must still run but cannot fail on a stale state.
func (d *Deployer) Wait(ctx context.Context, cs *ChangeSet, o WaitOptions) (*converge.Report, error) {
	if o.Now == nil {
		o.Now = d.now
	}
	return converge.Wait(ctx, d.engine, Targets(cs), o)
}

// Targets are the converge targets of a change set's services.
func Targets(cs *ChangeSet) []converge.Target {
	targets := make([]converge.Target, 0, len(cs.Services))
	for _, c := range cs.Services {
		targets = append(targets, converge.Target{
			ServiceID:   c.ID,
			Name:        c.Name,
			PrevVersion: c.PrevVersion,
			Changed:     c.Action != Unchanged,
		})
	}
	return targets
}
