package v1alpha1

import (
	"encoding/json"
	"maps"
	"slices"
)

// The copies below are written out by hand rather than made by a JSON round trip: they
// cannot fail (an invalid json.RawMessage would make encoding fail) and they keep nil and
// empty apart. deepcopy_test.go fills every field by reflection and fails when a field added
// later is shared between an object and its copy, so this file cannot silently fall behind.

// DeepCopy returns a copy of r that shares no memory with it.
func (r *Recipe) DeepCopy() *Recipe {
	if r == nil {
		return nil
	}
	out := *r
	out.ObjectMeta, out.Spec, out.Status = copyParts(r.ObjectMeta, r.Spec, r.Status)
	return &out
}

// DeepCopy returns a copy of r that shares no memory with it.
func (r *TestRun) DeepCopy() *TestRun {
	if r == nil {
		return nil
	}
	out := *r
	out.ObjectMeta, out.Spec, out.Status = copyParts(r.ObjectMeta, r.Spec, r.Status)
	return &out
}

// DeepCopy returns a copy of r that shares no memory with it.
func (r *Repository) DeepCopy() *Repository {
	if r == nil {
		return nil
	}
	out := *r
	out.ObjectMeta, out.Spec, out.Status = copyParts(r.ObjectMeta, r.Spec, r.Status)
	return &out
}

// copyParts deep-copies the three parts of an object.
func copyParts[S interface{ DeepCopy() S }, T interface{ DeepCopy() T }](m ObjectMeta, spec S, status T) (ObjectMeta, S, T) {
	return m.DeepCopy(), spec.DeepCopy(), status.DeepCopy()
}

// DeepCopy returns a copy of m that shares no memory with it.
func (m ObjectMeta) DeepCopy() ObjectMeta {
	m.Labels = maps.Clone(m.Labels)
	m.Annotations = maps.Clone(m.Annotations)
	m.DeletionTimestamp = clonePtr(m.DeletionTimestamp)
	m.Finalizers = slices.Clone(m.Finalizers)
	return m
}

// DeepCopy returns a copy of s that shares no memory with it.
func (s RecipeSpec) DeepCopy() RecipeSpec {
	s.Env = maps.Clone(s.Env)
	s.Overlays = cloneRaw(s.Overlays)
	s.Images = slices.Clone(s.Images)
	if s.Previous != nil {
		p := *s.Previous
		p.Overlays = cloneRaw(p.Overlays)
		p.Env = maps.Clone(p.Env)
		s.Previous = &p
	}
	s.ExpectedNotApplicable = maps.Clone(s.ExpectedNotApplicable)
	s.Timeouts.Deploy = clonePtr(s.Timeouts.Deploy)
	s.Checks = s.Checks.DeepCopy()
	return s
}

// DeepCopy returns a copy of c that shares no memory with it.
func (c Checks) DeepCopy() Checks {
	c.Install = cloneChecks(c.Install)
	c.Upgrade.Before = cloneChecks(c.Upgrade.Before)
	c.Upgrade.After = cloneChecks(c.Upgrade.After)
	c.Backup = cloneChecks(c.Backup)
	c.Restore = cloneChecks(c.Restore)
	c.Custom = cloneChecks(c.Custom)
	return c
}

// DeepCopy returns a copy of c that shares no memory with it.
func (c Check) DeepCopy() Check {
	c.HTTP = clonePtr(c.HTTP)
	if c.Exec != nil {
		e := *c.Exec
		e.Command = slices.Clone(e.Command)
		c.Exec = &e
	}
	if c.Job != nil {
		j := *c.Job
		j.Command = slices.Clone(j.Command)
		j.Env = maps.Clone(j.Env)
		c.Job = &j
	}
	c.Timeout = clonePtr(c.Timeout)
	return c
}

// DeepCopy returns a copy of s that shares no memory with it.
func (s RecipeStatus) DeepCopy() RecipeStatus {
	s.Canonical = clonePtr(s.Canonical)
	if s.WarmStack != nil {
		ws := *s.WarmStack
		ws.Deploy = s.WarmStack.Deploy.DeepCopy()
		s.WarmStack = &ws
	}
	s.Conditions = slices.Clone(s.Conditions)
	return s
}

// DeepCopy returns a copy of s that shares no memory with it.
func (s TestRunSpec) DeepCopy() TestRunSpec {
	s.Stages = slices.Clone(s.Stages)
	s.Env = maps.Clone(s.Env)
	s.Images = slices.Clone(s.Images)
	s.Timeout = clonePtr(s.Timeout)
	s.Base = clonePtr(s.Base)
	return s
}

// DeepCopy returns a copy of s that shares no memory with it.
func (s TestRunStatus) DeepCopy() TestRunStatus {
	s.Conditions = slices.Clone(s.Conditions)
	if s.Base != nil {
		b := *s.Base
		if b.Warm != nil {
			w := *b.Warm
			w.Volumes = slices.Clone(w.Volumes)
			w.CopiedAt = clonePtr(w.CopiedAt)
			b.Warm = &w
		}
		s.Base = &b
	}
	s.Head = clonePtr(s.Head)
	if s.Deploys != nil {
		ds := make([]DeployRecord, len(s.Deploys))
		for i := range s.Deploys {
			ds[i] = *s.Deploys[i].DeepCopy()
		}
		s.Deploys = ds
	}
	s.Pruned = slices.Clone(s.Pruned)
	if s.Tiers != nil {
		ts := make(map[string]TierResult, len(s.Tiers))
		for k, t := range s.Tiers {
			t.Checks = slices.Clone(t.Checks)
			t.Artifacts = slices.Clone(t.Artifacts)
			ts[k] = t
		}
		s.Tiers = ts
	}
	s.StartedAt = clonePtr(s.StartedAt)
	s.CompletedAt = clonePtr(s.CompletedAt)
	return s
}

// DeepCopy returns a copy of s that shares no memory with it.
func (s RepositorySpec) DeepCopy() RepositorySpec {
	s.Trigger.Users = slices.Clone(s.Trigger.Users)
	s.Trigger.Teams = slices.Clone(s.Trigger.Teams)
	s.PollInterval = clonePtr(s.PollInterval)
	s.Template.Stages = slices.Clone(s.Template.Stages)
	s.Template.Env = maps.Clone(s.Template.Env)
	s.Template.Timeout = clonePtr(s.Template.Timeout)
	s.Template.Base = clonePtr(s.Template.Base)
	return s
}

// DeepCopy returns a copy of s that shares no memory with it.
func (s RepositoryStatus) DeepCopy() RepositoryStatus {
	s.Conditions = slices.Clone(s.Conditions)
	s.Deliveries = slices.Clone(s.Deliveries)
	s.Pending = slices.Clone(s.Pending)
	s.PollCursor = clonePtr(s.PollCursor)
	s.LastPollTime = clonePtr(s.LastPollTime)
	s.PullRequests = slices.Clone(s.PullRequests)
	return s
}

// DeepCopy returns a copy of c that shares no memory with it.
func (c *Convergence) DeepCopy() *Convergence {
	if c == nil {
		return nil
	}
	out := *c
	out.SeenRunning = maps.Clone(c.SeenRunning)
	out.Health = maps.Clone(c.Health)
	out.Services = slices.Clone(c.Services)
	return &out
}

// DeepCopy returns a copy of d that shares no memory with it.
func (d *DeployRecord) DeepCopy() *DeployRecord {
	if d == nil {
		return nil
	}
	out := *d
	out.ComposeFiles = slices.Clone(d.ComposeFiles)
	out.Images = slices.Clone(d.Images)
	out.Created = slices.Clone(d.Created)
	out.Updated = slices.Clone(d.Updated)
	out.Unchanged = slices.Clone(d.Unchanged)
	out.StartedAt = clonePtr(d.StartedAt)
	out.ConvergedAt = clonePtr(d.ConvergedAt)
	out.Targets = slices.Clone(d.Targets)
	out.Convergence = d.Convergence.DeepCopy()
	return &out
}

func cloneChecks(cs []Check) []Check {
	if cs == nil {
		return nil
	}
	out := make([]Check, len(cs))
	for i, c := range cs {
		out[i] = c.DeepCopy()
	}
	return out
}

func cloneRaw(rs []json.RawMessage) []json.RawMessage {
	if rs == nil {
		return nil
	}
	out := make([]json.RawMessage, len(rs))
	for i, r := range rs {
		out[i] = slices.Clone(r)
	}
	return out
}

// clonePtr copies the value p points to; it is only deep for types without pointers, maps
// or slices inside.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
