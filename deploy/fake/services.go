package fake

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/swarmrun/swarmrun/deploy/internal/servicemode"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// service is a service in the store and the bookkeeping its orchestrator needs.
type service struct {
	s swarm.Service
	// key identifies the current task spec: tasks created from another key are out of date
	// and a rolling update replaces them.
	key string
	// tasks in creation order, history included until reaped.
	tasks []*task
	// updateGen counts the rollouts (updates and rollbacks); a task remembers the one that
	// created it, so only failures of the current rollout count against it.
	updateGen int
	// failures of tasks of the current rollout, for the failure action.
	failures int
	// pending is the rollout an update asked for. The updater starts it at the next step, so
	// right after the update the status reads nil while the old tasks still run, as on the
	// engine (visible in manual mode; automatic mode settles before returning).
	pending *swarm.UpdateStatus
	// busy says the service may still change without time passing; wakeAt is when its next
	// timed transition is due. A service neither busy nor due is skipped by step.
	busy   bool
	wakeAt time.Time
}

// ServiceCreate stores the service with the defaults the engine fills in; its tasks follow.
func (f *Fake) ServiceCreate(ctx context.Context, spec swarm.ServiceSpec, options swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error) {
	if err := f.enter(ctx, "ServiceCreate", spec, options); err != nil {
		return swarm.ServiceCreateResponse{}, err
	}
	f.lock()
	defer f.unlock()
	spec = clone(spec)
	warning := f.resolveImage(&spec, options.QueryRegistry)
	id := f.newID()
	if spec.Name == "" {
		spec.Name = "service_" + id[:10]
	}
	norm, err := f.normalise(spec)
	if err != nil {
		return swarm.ServiceCreateResponse{}, err
	}
	for _, s := range f.order {
		if s.s.Spec.Name == norm.Name {
			return swarm.ServiceCreateResponse{}, errConflict("rpc error: code = AlreadyExists desc = name conflicts with an existing object: service %s already exists", norm.Name)
		}
	}
	now := f.clock()
	s := &service{s: swarm.Service{ID: id, Spec: norm}}
	s.s.Version = f.bump()
	s.s.CreatedAt, s.s.UpdatedAt = now, now
	s.s.Endpoint = f.endpoint(norm)
	if isJob(norm.Mode) {
		s.s.JobStatus = &swarm.JobStatus{LastExecution: now}
	}
	s.key = taskKey(norm)
	s.busy = true
	f.services[id] = s
	f.order = append(f.order, s)
	f.emit("service", "create", id, map[string]string{"name": norm.Name}, "swarm")
	resp := swarm.ServiceCreateResponse{ID: id}
	if warning != "" {
		resp.Warnings = []string{warning}
	}
	return resp, nil
}

// resolveImage does what the Docker client does to a service's image before sending it: tag
// it (":latest" when untagged) in its familiar form, and with QueryRegistry pin it to the
// registry's digest, or, when no registry answers, keep it and return the client's warning.
func (f *Fake) resolveImage(spec *swarm.ServiceSpec, queryRegistry bool) string {
	cs := spec.TaskTemplate.ContainerSpec
	if cs == nil {
		return ""
	}
	named, err := reference.ParseNormalizedNamed(cs.Image)
	if err != nil {
		return ""
	}
	cs.Image = reference.FamiliarString(reference.TagNameOnly(named))
	if !queryRegistry {
		return ""
	}
	a, ok := f.dists[f.imageKey(cs.Image)]
	if !ok || a.err != nil {
		return fmt.Sprintf("image %s could not be accessed on a registry to record\nits digest. Each node will access %s independently,\npossibly leading to different nodes running different\nversions of the image.\n", cs.Image, cs.Image)
	}
	if _, canonical := named.(reference.Canonical); !canonical {
		if d, err := reference.WithDigest(named, a.inspect.Descriptor.Digest); err == nil {
			cs.Image = reference.FamiliarString(d)
		}
	}
	return ""
}

// ServiceInspectWithRaw finds a service by ID, name or unique ID prefix, as the engine does.
func (f *Fake) ServiceInspectWithRaw(ctx context.Context, serviceID string, options swarm.ServiceInspectOptions) (swarm.Service, []byte, error) {
	if err := f.enter(ctx, "ServiceInspectWithRaw", serviceID, options); err != nil {
		return swarm.Service{}, nil, err
	}
	f.lock()
	defer f.unlock()
	s, err := f.findService(serviceID)
	if err != nil {
		return swarm.Service{}, nil, err
	}
	out := clone(s.s)
	raw, err := json.Marshal(out)
	if err != nil {
		return swarm.Service{}, nil, fmt.Errorf("marshal service: %w", err)
	}
	return out, raw, nil
}

// ServiceList lists services matching the filters: id and name by prefix (as swarmkit
// matches them), label by key or key=value, mode replicated or global.
func (f *Fake) ServiceList(ctx context.Context, options swarm.ServiceListOptions) ([]swarm.Service, error) {
	if err := f.enter(ctx, "ServiceList", options); err != nil {
		return nil, err
	}
	if err := validateFilters(options.Filters, "id", "label", "mode", "name"); err != nil {
		return nil, err
	}
	f.lock()
	defer f.unlock()
	var out []swarm.Service
	for _, s := range f.order {
		if !matchPrefix(options.Filters, "id", s.s.ID) || !matchPrefix(options.Filters, "name", s.s.Spec.Name) ||
			!options.Filters.MatchKVList("label", s.s.Spec.Labels) || !matchMode(options.Filters, s.s.Spec.Mode) {
			continue
		}
		c := clone(s.s)
		if options.Status {
			st := f.serviceStatus(s)
			c.ServiceStatus = &st
		}
		out = append(out, c)
	}
	return out, nil
}

// ServiceUpdate replaces the spec of the service at version, as swarmkit does: a stale
// version is refused ("update out of sequence"), the old spec becomes PreviousSpec, the update
// status is reset, and a changed task template starts a rolling update (a new iteration for
// a job). A change outside the task template restarts nothing.
func (f *Fake) ServiceUpdate(ctx context.Context, serviceID string, version swarm.Version, spec swarm.ServiceSpec, options swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error) {
	if err := f.enter(ctx, "ServiceUpdate", serviceID, version, spec, options); err != nil {
		return swarm.ServiceUpdateResponse{}, err
	}
	f.lock()
	defer f.unlock()
	spec = clone(spec)
	warning := f.resolveImage(&spec, options.QueryRegistry)
	s, err := f.findService(serviceID)
	if err != nil {
		return swarm.ServiceUpdateResponse{}, err
	}
	if version.Index != s.s.Version.Index {
		return swarm.ServiceUpdateResponse{}, errSystem("rpc error: code = Unknown desc = update out of sequence")
	}
	rollback := options.Rollback == "previous"
	if rollback {
		if s.s.PreviousSpec == nil {
			return swarm.ServiceUpdateResponse{}, errInvalid("rpc error: code = FailedPrecondition desc = service %s does not have a previous spec", s.s.ID)
		}
		spec = *s.s.PreviousSpec
	}
	norm, err := f.normalise(spec)
	if err != nil {
		return swarm.ServiceUpdateResponse{}, err
	}
	if norm.Name != s.s.Spec.Name {
		return swarm.ServiceUpdateResponse{}, &engineError{msg: "rpc error: code = Unimplemented desc = renaming services is not supported", class: cerrdefs.ErrNotImplemented}
	}
	if servicemode.Name(norm.Mode) != servicemode.Name(s.s.Spec.Mode) {
		return swarm.ServiceUpdateResponse{}, &engineError{msg: "rpc error: code = Unimplemented desc = service mode change is not allowed", class: cerrdefs.ErrNotImplemented}
	}
	now := f.clock()
	old := s.s.Spec
	s.s.PreviousSpec = &old
	s.s.Spec = norm
	s.s.Version = f.bump()
	s.s.UpdatedAt = now
	s.s.UpdateStatus = nil
	s.s.Endpoint = f.endpoint(norm)
	s.busy = true
	attrs := map[string]string{"name": norm.Name}
	if oi, ni := old.TaskTemplate.ContainerSpec.Image, norm.TaskTemplate.ContainerSpec.Image; oi != ni {
		attrs["image.old"], attrs["image.new"] = oi, ni
	}
	f.emit("service", "update", s.s.ID, attrs, "swarm")
	if key := taskKey(norm); key != s.key {
		s.key = key
		switch {
		case isJob(norm.Mode):
			s.s.JobStatus = &swarm.JobStatus{JobIteration: swarm.Version{Index: s.s.JobStatus.JobIteration.Index + 1}, LastExecution: now}
		case rollback:
			s.pending = &swarm.UpdateStatus{State: swarm.UpdateStateRollbackStarted, Message: "manually requested rollback"}
		default:
			s.pending = &swarm.UpdateStatus{State: swarm.UpdateStateUpdating, Message: "update in progress"}
		}
	}
	var resp swarm.ServiceUpdateResponse
	if warning != "" {
		resp.Warnings = []string{warning}
	}
	return resp, nil
}

// ServiceRemove deletes the service. Its tasks are told to go and leave the store, with their
// containers, over the next steps.
func (f *Fake) ServiceRemove(ctx context.Context, serviceID string) error {
	if err := f.enter(ctx, "ServiceRemove", serviceID); err != nil {
		return err
	}
	f.lock()
	defer f.unlock()
	s, err := f.findService(serviceID)
	if err != nil {
		return err
	}
	// The tasks outlive their service for a moment, as on the engine: desired state remove,
	// then shut down, then gone with their containers. Until then a volume they mount is in
	// use, and the stack's label still lists them.
	for _, t := range s.tasks {
		if t.t.DesiredState != swarm.TaskStateRemove {
			f.setDesired(t, swarm.TaskStateRemove)
		}
		f.dying = append(f.dying, t)
	}
	s.tasks = nil
	delete(f.services, s.s.ID)
	for i, o := range f.order {
		if o == s {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
	f.bump()
	f.emit("service", "remove", s.s.ID, map[string]string{"name": s.s.Spec.Name}, "swarm")
	return nil
}

// findService resolves an ID, a name or a unique ID prefix, in the engine's order.
func (f *Fake) findService(ref string) (*service, error) {
	if s, ok := f.services[ref]; ok {
		return s, nil
	}
	for _, s := range f.order {
		if s.s.Spec.Name == ref {
			return s, nil
		}
	}
	var found *service
	for _, s := range f.order {
		if ref != "" && strings.HasPrefix(s.s.ID, ref) {
			if found != nil {
				return nil, errInvalid("service %s is ambiguous (more than one match found)", ref)
			}
			found = s
		}
	}
	if found == nil {
		return nil, errNotFound("service %s not found", ref)
	}
	return found, nil
}

// normalise validates a spec and fills in the defaults the engine fills in, so that what a
// caller reads back matches what the real engine returns (an unchanged spec compares equal).
func (f *Fake) normalise(in swarm.ServiceSpec) (swarm.ServiceSpec, error) {
	spec := clone(in)
	if !validServiceName(spec.Name) {
		return spec, errInvalid("rpc error: code = InvalidArgument desc = name must be valid as a DNS name component")
	}
	if spec.Labels == nil {
		spec.Labels = map[string]string{}
	}
	tt := &spec.TaskTemplate
	if tt.ContainerSpec == nil || tt.ContainerSpec.Image == "" {
		return spec, errInvalid("rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided")
	}
	if tt.ContainerSpec.Isolation == "" {
		tt.ContainerSpec.Isolation = "default"
	}
	if tt.Runtime == "" {
		tt.Runtime = swarm.RuntimeContainer
	}
	if rp := tt.RestartPolicy; rp != nil {
		if rp.Condition == "" {
			rp.Condition = swarm.RestartPolicyConditionAny
		}
		if rp.MaxAttempts == nil {
			rp.MaxAttempts = new(uint64)
		}
	}
	m := &spec.Mode
	switch {
	case m.Replicated == nil && m.Global == nil && m.ReplicatedJob == nil && m.GlobalJob == nil:
		m.Replicated = &swarm.ReplicatedService{Replicas: ptr(uint64(1))}
	case m.Replicated != nil && m.Replicated.Replicas == nil:
		m.Replicated.Replicas = ptr(uint64(1))
	case m.ReplicatedJob != nil:
		if m.ReplicatedJob.MaxConcurrent == nil {
			m.ReplicatedJob.MaxConcurrent = ptr(uint64(1))
		}
		if m.ReplicatedJob.TotalCompletions == nil {
			m.ReplicatedJob.TotalCompletions = ptr(*m.ReplicatedJob.MaxConcurrent)
		}
	}
	for _, uc := range []*swarm.UpdateConfig{spec.UpdateConfig, spec.RollbackConfig} {
		if uc == nil {
			continue
		}
		if uc.FailureAction == "" {
			uc.FailureAction = swarm.UpdateFailureActionPause
		}
		if uc.Order == "" {
			uc.Order = swarm.UpdateOrderStopFirst
		}
	}
	if spec.EndpointSpec != nil && spec.EndpointSpec.Mode == "" {
		spec.EndpointSpec.Mode = swarm.ResolutionModeVIP
	}
	//lint:ignore SA1019 the deprecated field is still accepted by the engine
	for _, nets := range [][]swarm.NetworkAttachmentConfig{tt.Networks, spec.Networks} {
		for i := range nets {
			n := f.findNetwork(nets[i].Target)
			if n == nil {
				return spec, errSystem("network %s not found", nets[i].Target)
			}
			nets[i].Target = n.n.ID
		}
	}
	for _, ref := range tt.ContainerSpec.Secrets {
		if _, ok := f.secrets[ref.SecretID]; !ok {
			return spec, errInvalid("rpc error: code = InvalidArgument desc = secret not found: %s", ref.SecretID)
		}
	}
	for _, ref := range tt.ContainerSpec.Configs {
		if _, ok := f.configs[ref.ConfigID]; !ok {
			return spec, errInvalid("rpc error: code = InvalidArgument desc = config not found: %s", ref.ConfigID)
		}
	}
	return spec, nil
}

// endpoint is the service's Endpoint as the engine reports it: the spec (vip by default once
// one is given) and a virtual IP on each attached network.
func (f *Fake) endpoint(spec swarm.ServiceSpec) swarm.Endpoint {
	var ep swarm.Endpoint
	if spec.EndpointSpec != nil {
		ep.Spec = *spec.EndpointSpec
	}
	if ep.Spec.Mode == swarm.ResolutionModeDNSRR {
		return ep
	}
	for i, n := range spec.TaskTemplate.Networks {
		ep.VirtualIPs = append(ep.VirtualIPs, swarm.EndpointVirtualIP{NetworkID: n.Target, Addr: fmt.Sprintf("10.0.%d.%d/24", 100+i, 2+len(f.order)%250)})
	}
	return ep
}

// serviceStatus counts tasks as ServiceList with Status does.
func (f *Fake) serviceStatus(s *service) swarm.ServiceStatus {
	var st swarm.ServiceStatus
	m := s.s.Spec.Mode
	switch {
	case m.Replicated != nil:
		st.DesiredTasks = *m.Replicated.Replicas
	case m.ReplicatedJob != nil:
		st.DesiredTasks = *m.ReplicatedJob.MaxConcurrent
	default:
		st.DesiredTasks = 1
	}
	for _, t := range s.tasks {
		if t.t.DesiredState == swarm.TaskStateRunning && t.t.Status.State == swarm.TaskStateRunning {
			st.RunningTasks++
		}
		if isJob(m) && t.t.Status.State == swarm.TaskStateComplete && t.t.JobIteration != nil && t.t.JobIteration.Index == s.s.JobStatus.JobIteration.Index {
			st.CompletedTasks++
		}
	}
	return st
}

// taskKey is the identity of a task spec: the task template without the fields that the
// engine keeps on the service only.
func taskKey(spec swarm.ServiceSpec) string {
	b, err := json.Marshal(taskSpec(spec))
	if err != nil {
		panic(fmt.Sprintf("fake: marshal task spec: %v", err))
	}
	return string(b)
}

// taskSpec is the spec a task gets: the service's template as the engine copies it (without
// Runtime, which the engine reports on the service only).
func taskSpec(spec swarm.ServiceSpec) swarm.TaskSpec {
	ts := clone(spec.TaskTemplate)
	ts.Runtime = ""
	return ts
}

func isJob(m swarm.ServiceMode) bool { return m.ReplicatedJob != nil || m.GlobalJob != nil }

func matchMode(args filters.Args, m swarm.ServiceMode) bool {
	if !args.Contains("mode") {
		return true
	}
	return args.ExactMatch("mode", servicemode.Name(m))
}

// matchPrefix is swarmkit's prefix matching of id and name filters: any value may match.
func matchPrefix(args filters.Args, key, value string) bool {
	vals := args.Get(key)
	if len(vals) == 0 {
		return true
	}
	for _, v := range vals {
		if strings.HasPrefix(value, v) {
			return true
		}
	}
	return false
}

// validateFilters refuses filter keys other than accepted, as the engine does.
func validateFilters(args filters.Args, accepted ...string) error {
	keys := args.Keys()
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(accepted, k) {
			return errInvalid("Invalid filter '%s'", k)
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// validServiceName is swarmkit's rule for service names: a DNS name component of at most 63
// characters, letters, digits, '-' and '_', starting and ending with a letter or digit.
func validServiceName(name string) bool {
	return validName(name, 63, "-_")
}

// validName checks a name of at most max characters made of letters, digits and the
// characters of inner, which may not start or end it.
func validName(name string, max int, inner string) bool {
	if name == "" || len(name) > max {
		return false
	}
	for i, r := range name {
		alnum := r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		if alnum {
			continue
		}
		if i == 0 || i == len(name)-1 || !strings.ContainsRune(inner, r) {
			return false
		}
	}
	return true
}
