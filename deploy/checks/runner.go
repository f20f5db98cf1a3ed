package checks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/internal/mask"
)

// Defaults of Options.
const (
	DefaultTimeout   = 2 * time.Minute
	DefaultPoll      = 250 * time.Millisecond
	DefaultOutputMax = 4096
	// DefaultHTTPImage is the image that performs http checks. It must accept the probe's
	// command line: -check URL [-expect-status N] [-contains S] [-put BODY].
	DefaultHTTPImage = "swarmrun-probe:1"
)

// Options configure a Runner. Zero values take the defaults.
type Options struct {
	Engine deploy.Engine
	// HTTPImage performs http checks (see DefaultHTTPImage for the command line it must take).
	HTTPImage string
	// Labels are added to every service a check creates (ownership labels).
	Labels map[string]string
	// Timeout bounds one check unless the check sets its own.
	Timeout time.Duration
	// Poll is how often a one-shot task's state is read.
	Poll time.Duration
	// OutputMax is how many bytes of output (the tail) a result keeps.
	OutputMax int
	Now       func() time.Time
}

// Runner runs checks against stacks.
type Runner struct {
	engine    deploy.Engine
	httpImage string
	labels    map[string]string
	timeout   time.Duration
	poll      time.Duration
	outputMax int
	now       func() time.Time
}

// New returns a Runner with the defaults filled in.
func New(o Options) *Runner {
	r := &Runner{engine: o.Engine, httpImage: o.HTTPImage, labels: o.Labels, timeout: o.Timeout,
		poll: o.Poll, outputMax: o.OutputMax, now: o.Now}
	if r.httpImage == "" {
		r.httpImage = DefaultHTTPImage
	}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	if r.poll <= 0 {
		r.poll = DefaultPoll
	}
	if r.outputMax <= 0 {
		r.outputMax = DefaultOutputMax
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// WithLabels returns a Runner that adds labels to every service its checks create, over
// those of Options.Labels (a caller's per-run ownership labels, such as the TestRun that ran
// the check). r itself is not changed, so one Runner serves many callers at once.
func (r *Runner) WithLabels(labels map[string]string) *Runner {
	c := *r
	c.labels = make(map[string]string, len(r.labels)+len(labels))
	maps.Copy(c.labels, r.labels)
	maps.Copy(c.labels, labels)
	return &c
}

// Run runs one check against stack and returns its result, with output trimmed and every
// secret the Masker knows replaced. A check that cannot even start (the target service is
// missing, the engine refuses) fails with the reason in Message; Run itself never errors, so
// one broken check cannot hide the others' results.
func (r *Runner) Run(ctx context.Context, stack string, c v1alpha1.Check, m *mask.Masker) v1alpha1.CheckResult {
	start := r.now()
	timeout := r.timeout
	if c.Timeout != nil && c.Timeout.Duration > 0 {
		timeout = c.Timeout.Duration
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var (
		out  string
		code int
		err  error
	)
	switch {
	case c.HTTP != nil:
		out, code, err = r.runHTTP(ctx, stack, c.Name, c.HTTP)
	case c.Exec != nil:
		out, code, err = r.runExec(ctx, stack, c.Exec)
	case c.Job != nil:
		out, code, err = r.runJob(ctx, stack, c.Name, c.Job)
	default:
		err = errors.New("check has none of http, exec, job")
	}
	res := v1alpha1.CheckResult{
		Name:     c.Name,
		Result:   v1alpha1.ResultPassed,
		Duration: v1alpha1.Duration{Duration: r.now().Sub(start)},
		Output:   maskedTail(m, out, r.outputMax),
	}
	switch {
	case err != nil:
		res.Result, res.Message = v1alpha1.ResultFailed, m.String(err.Error())
	case code != 0:
		res.Result, res.Message = v1alpha1.ResultFailed, fmt.Sprintf("exit code %d", code)
	}
	logr.FromContextOrDiscard(ctx).V(1).Info("check done", "stack", stack, "check", c.Name, "result", res.Result, "duration", res.Duration.Duration)
	return res
}

// runHTTP runs the http image on the target service's networks against tasks.<service>.
func (r *Runner) runHTTP(ctx context.Context, stack, name string, h *v1alpha1.HTTPCheck) (string, int, error) {
	target, err := r.service(ctx, stack, h.Service)
	if err != nil {
		return "", 0, err
	}
	path := h.Path
	if path == "" {
		path = "/"
	} else if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	url := fmt.Sprintf("http://tasks.%s:%d%s", target.Spec.Name, h.Port, path)
	args := []string{"-check", url}
	if h.ExpectStatus != 0 {
		args = append(args, "-expect-status", strconv.Itoa(h.ExpectStatus))
	}
	if h.Contains != "" {
		args = append(args, "-contains", h.Contains)
	}
	if strings.EqualFold(h.Method, "PUT") {
		args = append(args, "-put", h.Body)
	}
	return r.oneShot(ctx, stack, name, r.httpImage, nil, args, nil, networksOf(target))
}

// runJob runs the job's image on every network of the stack.
func (r *Runner) runJob(ctx context.Context, stack, name string, j *v1alpha1.JobCheck) (string, int, error) {
	nets, err := r.stackNetworks(ctx, stack)
	if err != nil {
		return "", 0, err
	}
	var env []string
	for k, v := range j.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return r.oneShot(ctx, stack, name, j.Image, nil, j.Command, env, nets)
}

// oneShot creates a replicated service with one task that is never restarted, waits for the
// task to end, collects its logs and exit code, and removes the service (and so its task).
func (r *Runner) oneShot(ctx context.Context, stack, check, image string, command, args, env, networks []string) (string, int, error) {
	labels := map[string]string{
		deploy.LabelNamespace: stack,
		v1alpha1.LabelRole:    v1alpha1.RoleCheck,
	}
	for k, v := range r.labels {
		labels[k] = v
	}
	one := uint64(1)
	var attach []swarm.NetworkAttachmentConfig
	for _, n := range networks {
		attach = append(attach, swarm.NetworkAttachmentConfig{Target: n})
	}
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: checkServiceName(stack, check), Labels: labels},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: image, Command: command, Args: args, Env: env,
				Labels: map[string]string{deploy.LabelNamespace: stack}},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone},
			Networks:      attach,
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
	}
	created, err := r.engine.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{})
	if err != nil {
		return "", 0, fmt.Errorf("create check service: %w", err)
	}
	defer func() {
		// The check's ctx may be spent; removal must still happen, bounded on its own.
		rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := r.engine.ServiceRemove(rmCtx, created.ID); err != nil {
			logr.FromContextOrDiscard(ctx).Error(err, "check service not removed", "service", spec.Name)
		}
	}()
	task, err := r.waitTask(ctx, created.ID)
	out := r.logs(ctx, created.ID)
	if err != nil {
		return out, 0, err
	}
	code := 0
	if task.Status.ContainerStatus != nil {
		code = task.Status.ContainerStatus.ExitCode
	}
	switch task.Status.State {
	case swarm.TaskStateComplete:
		return out, code, nil
	case swarm.TaskStateFailed:
		if code == 0 {
			code = 1
		}
		return out, code, nil
	default:
		return out, code, fmt.Errorf("check task %s: %s", task.Status.State, task.Status.Err)
	}
}

// waitTask polls until the service's task reaches a terminal state.
func (r *Runner) waitTask(ctx context.Context, serviceID string) (swarm.Task, error) {
	f := filters.NewArgs(filters.Arg("service", serviceID))
	var last swarm.Task
	for {
		tasks, err := r.engine.TaskList(ctx, swarm.TaskListOptions{Filters: f})
		if err != nil {
			return last, fmt.Errorf("list check tasks: %w", err)
		}
		for _, t := range tasks {
			last = t
			switch t.Status.State {
			case swarm.TaskStateComplete, swarm.TaskStateFailed, swarm.TaskStateRejected,
				swarm.TaskStateShutdown, swarm.TaskStateOrphaned, swarm.TaskStateRemove:
				return t, nil
			}
		}
		select {
		case <-ctx.Done():
			state := "no task yet"
			if last.ID != "" {
				state = fmt.Sprintf("task %s", last.Status.State)
				if last.Status.Err != "" {
					state += ": " + last.Status.Err
				}
			}
			return last, fmt.Errorf("check did not finish in time (%s): %w", state, ctx.Err())
		case <-time.After(r.poll):
		}
	}
}

// logs returns the one-shot service's stdout and stderr, best effort: a check's verdict is its
// exit code, the output only explains it.
func (r *Runner) logs(ctx context.Context, serviceID string) string {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	rc, err := r.engine.ServiceLogs(lctx, serviceID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, io.LimitReader(rc, 1<<20)); err != nil && buf.Len() == 0 {
		return ""
	}
	return buf.String()
}

// service finds a stack's service by its compose name.
func (r *Runner) service(ctx context.Context, stack, name string) (swarm.Service, error) {
	full := stack + "_" + name
	svcs, err := r.engine.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(
		filters.Arg("label", deploy.LabelNamespace+"="+stack), filters.Arg("name", full))})
	if err != nil {
		return swarm.Service{}, fmt.Errorf("find service %s: %w", full, err)
	}
	for _, s := range svcs {
		if s.Spec.Name == full {
			return s, nil
		}
	}
	return swarm.Service{}, fmt.Errorf("service %s not found in stack %s", name, stack)
}

func networksOf(s swarm.Service) []string {
	var out []string
	for _, n := range s.Spec.TaskTemplate.Networks {
		out = append(out, n.Target)
	}
	return out
}

// stackNetworks lists the IDs of the stack's networks.
func (r *Runner) stackNetworks(ctx context.Context, stack string) ([]string, error) {
	svcs, err := r.engine.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(
		filters.Arg("label", deploy.LabelNamespace+"="+stack))})
	if err != nil {
		return nil, fmt.Errorf("list services of %s: %w", stack, err)
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range svcs {
		if s.Spec.Labels[v1alpha1.LabelRole] == v1alpha1.RoleCheck {
			continue
		}
		for _, n := range networksOf(s) {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// checkServiceName is "<stack>_chk-<check>-<4 hex>", cut to stay within the engine's limit.
func checkServiceName(stack, check string) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	var clean strings.Builder
	for _, c := range strings.ToLower(check) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' {
			clean.WriteRune(c)
		} else {
			clean.WriteRune('-')
		}
	}
	name := stack + "_chk-" + strings.Trim(clean.String(), "-")
	if len(name) > 58 {
		name = name[:58]
	}
	return strings.TrimRight(name, "-_") + "-" + hex.EncodeToString(b)
}

// maskedTail is the end of a check's output, masked before it is cut: a secret that the cut
// would split is no longer whole, and the masker could not find its surviving suffix.
func maskedTail(m *mask.Masker, s string, max int) string {
	return tail(m.String(s), max)
}

func tail(s string, max int) string {
	s = strings.TrimSpace(s)
	if len(s) <= max {
		return s
	}
	return "…" + s[len(s)-max:]
}
