package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/internal/mask"
)

// Store is the part of the object store the TestRun reconciler uses; *store.Store has it.
type Store interface {
	Get(ctx context.Context, name string, into v1alpha1.Object) error
	Update(ctx context.Context, obj v1alpha1.Object) error
	UpdateStatus(ctx context.Context, obj v1alpha1.Object) error
	RecordEvent(ctx context.Context, ref v1alpha1.ObjectReference, typ v1alpha1.EventType, reason, message string) error
}

// CheckRunner runs one recipe check against a stack, its one-shot services carrying labels;
// the wiring adapts *checks.Runner to it.
type CheckRunner interface {
	Run(ctx context.Context, stack string, c v1alpha1.Check, labels map[string]string, m *mask.Masker) v1alpha1.CheckResult
}

// Progress is what a run reports while a deploy converges, for a live view (swarmrun run)
// and for measurements. Exactly one of Service and Converged is set.
type Progress struct {
	TestRun string
	// Role is the deploy's role: base or head.
	Role string
	// Service is one service's new convergence state.
	Service *stack.Progress
	// Converged is how long the deploy took from the start of its apply until the look that
	// found it converged.
	Converged time.Duration
}

// Defaults of Options.
const (
	// DefaultCheckPoll is how often a step looks at checks that run in the background when
	// their end does not wake it first.
	DefaultCheckPoll = time.Second
	// DefaultCheckWorkers bounds the check batches that run at once, across runs.
	DefaultCheckWorkers = 8
)

// Options configure a TestRunReconciler. Store, Stacks, Checks and DataDir are required.
type Options struct {
	Store Store
	// Stacks is the deploy pipeline: sources, render, apply, looks, prune, removal.
	Stacks *stack.Pipeline
	Checks CheckRunner
	// DataDir holds the runs' directories (<DataDir>/runs/<testrun>) and results.
	DataDir string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Progress, when set, receives convergence progress. It must return quickly.
	Progress func(Progress)
	// Promoter, when set, decides whether a finished run of a warm recipe promotes its head
	// to the recipe's canonical (see promote).
	Promoter Promoter
	// Wake, when set, asks for the TestRun to be reconciled again soon: checks that run in
	// the background call it when they end. The wiring passes the controller's Enqueue.
	Wake func(controller.Request)
	// CheckWorkers bounds the check batches running at once; default DefaultCheckWorkers.
	CheckWorkers int
	// CheckPoll is how often a step looks at running checks; default DefaultCheckPoll.
	CheckPoll time.Duration
	// RestoreSettle is how long the stack must stay converged after a restore for the
	// restore tier to pass; default DefaultRestoreSettle.
	RestoreSettle time.Duration
	// WarmPoll is how often a warm run asks whether the warm stack is ready; default
	// DefaultWarmPoll.
	WarmPoll time.Duration
	// MaxRuns bounds the runs in flight (started, not finished) in this process; a run over
	// the bound waits its turn, first come first, with the Succeeded condition Unknown
	// (Queued). Zero means DefaultMaxRuns; negative, no bound.
	MaxRuns int
	// Observer, when set, is told what runs did (verdicts, convergence times, prunes,
	// promotions), for metrics.
	Observer Observer
}

// DefaultMaxRuns is how many runs are in flight at once by default: each deploys stacks,
// and the small machines swarmrun runs on hold a few at a time.
const DefaultMaxRuns = 4

// queuedPoll is how often a run waiting its turn asks again, when no finishing run wakes it.
const queuedPoll = 5 * time.Second

// TestRunReconciler drives TestRuns through the run lifecycle, one step per call (see the
// package doc).
type TestRunReconciler struct {
	o      Options
	now    func() time.Time
	stacks *stack.Pipeline
	memory *memory
	checks *checkBatches
}

var _ controller.Reconciler = (*TestRunReconciler)(nil)

// NewTestRunReconciler returns a reconciler with the defaults of o filled in.
func NewTestRunReconciler(o Options) (*TestRunReconciler, error) {
	if o.Store == nil || o.Stacks == nil || o.Checks == nil || o.DataDir == "" {
		return nil, errors.New("testrun reconciler: store, stacks, checks and data dir are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckWorkers <= 0 {
		o.CheckWorkers = DefaultCheckWorkers
	}
	if o.CheckPoll <= 0 {
		o.CheckPoll = DefaultCheckPoll
	}
	if o.MaxRuns == 0 {
		o.MaxRuns = DefaultMaxRuns
	}
	if o.RestoreSettle <= 0 {
		o.RestoreSettle = DefaultRestoreSettle
	}
	if o.WarmPoll <= 0 {
		o.WarmPoll = DefaultWarmPoll
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	r := &TestRunReconciler{o: o, now: o.Now, stacks: o.Stacks, memory: newMemory()}
	r.checks = newCheckBatches(o.CheckWorkers, func(name string) {
		if o.Wake != nil {
			o.Wake(controller.Request{Kind: v1alpha1.KindTestRun, Name: name})
		}
	})
	return r, nil
}

// Stop cancels the checks running in the background and waits for them to return. A
// restarted reconciler runs unfinished check batches again.
func (r *TestRunReconciler) Stop() { r.checks.stop() }

// run is one Reconcile call's view of a TestRun: the object as last stored, its Recipe, and
// what this process remembers of it (renders, masker, source).
type run struct {
	tr  *v1alpha1.TestRun
	rc  *v1alpha1.Recipe
	mem *runMemory
	// deadline is when spec.timeout runs out, by the injected clock.
	deadline time.Time
}

func (rn *run) masker() *mask.Masker { return rn.mem.masker }

// next says what the driver does after a step.
type next = controller.Result

// again asks for the next step as soon as a worker is free; later after d.
var again = controller.Result{Requeue: true}

func after(d time.Duration) controller.Result {
	return controller.Result{RequeueAfter: max(d, time.Millisecond)}
}

// Reconcile takes one step of one TestRun and returns. It is level-based: it reads the
// TestRun, its Recipe and the swarm afresh, finds the first step the stored status says is
// not done, does it (apply and record, or look and judge, or start or collect checks),
// stores status, and asks to be called again: at once when the next step can go, after a
// while when it waits for the swarm or for checks. Events of the run's stack wake it earlier.
func (r *TestRunReconciler) Reconcile(ctx context.Context, req controller.Request) (controller.Result, error) {
	tr := &v1alpha1.TestRun{}
	if err := r.o.Store.Get(ctx, req.Name, tr); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			r.forget(req.Name)
			return controller.Result{}, nil
		}
		return controller.Result{}, fmt.Errorf("get testrun: %w", err)
	}
	log := logr.FromContextOrDiscard(ctx).WithValues("testrun", tr.Name)
	ctx = logr.NewContext(ctx, log)

	if tr.DeletionTimestamp != nil {
		return r.finalize(ctx, tr)
	}
	if !tr.HasFinalizer(v1alpha1.FinalizerTeardown) {
		tr.Finalizers = append(tr.Finalizers, v1alpha1.FinalizerTeardown)
		if err := r.o.Store.Update(ctx, tr); err != nil {
			return controller.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
		return again, nil
	}
	if finished(tr) {
		return r.teardown(ctx, tr)
	}

	if !r.memory.admit(tr.Name, tr.Status.StartedAt != nil, r.o.MaxRuns) {
		return r.queue(ctx, tr)
	}
	rn := &run{tr: tr, mem: r.memory.of(tr)}
	if tr.Status.StartedAt == nil {
		now := v1alpha1.Time{Time: r.now()}
		tr.Status.StartedAt = &now
		r.setCondition(tr, v1alpha1.ConditionSucceeded, v1alpha1.ConditionUnknown, v1alpha1.ReasonProgressing, "run started")
		if err := r.save(ctx, rn); err != nil {
			return controller.Result{}, err
		}
		return again, nil
	}
	rn.deadline = tr.Status.StartedAt.Add(runTimeout(tr))

	res, err := r.step(ctx, rn)
	if err = r.classify(ctx, rn, err); err == nil {
		return res, nil
	}
	var f *failure
	if !errors.As(err, &f) {
		if ctx.Err() == nil && !errors.Is(err, store.ErrConflict) {
			// The driver retries with backoff; the run says why it does not advance.
			r.event(ctx, rn, v1alpha1.EventWarning, v1alpha1.ReasonEngineError, "%s (retried)", err.Error())
		}
		return controller.Result{}, err
	}
	if err := r.fail(ctx, rn, f); err != nil {
		return controller.Result{}, err
	}
	return again, nil
}

// step does the first step of the lifecycle that is not done yet.
func (r *TestRunReconciler) step(ctx context.Context, rn *run) (next, error) {
	if !r.now().Before(rn.deadline) {
		return next{}, &failure{reason: v1alpha1.ReasonTimeout, tier: r.currentTier(rn),
			err: fmt.Errorf("run exceeded its timeout of %s", runTimeout(rn.tr))}
	}
	if err := r.loadRecipe(ctx, rn); err != nil {
		return next{}, err
	}
	tr := rn.tr
	if tr.Status.Stack != "" && tr.Status.Stack != StackName(tr) {
		// Only the controller writes status, and it writes the run's own stack name: any
		// other name never reaches the swarm.
		return next{}, &failure{reason: v1alpha1.ReasonInvalidStatus,
			err: fmt.Errorf("status.stack %q is not this run's stack %s", tr.Status.Stack, StackName(tr))}
	}
	switch {
	case !conditionTrue(v1alpha1.ConditionResolved)(tr):
		return again, r.resolve(ctx, rn)
	case !conditionTrue(v1alpha1.ConditionBaseReady)(tr):
		return r.basePhase(ctx, rn)
	case !conditionTrue(v1alpha1.ConditionHeadReady)(tr):
		return r.headPhase(ctx, rn)
	case !conditionTrue(v1alpha1.ConditionPruned)(tr):
		return again, r.prune(ctx, rn)
	case !conditionTrue(v1alpha1.ConditionVerified)(tr):
		return r.verify(ctx, rn)
	case !tiersDone(tr):
		return r.runTiers(ctx, rn)
	}
	return again, r.finish(ctx, rn)
}

// classify turns a step's error into a run failure when no retry can help (see reasonFor);
// nil stays nil, and a transient error goes back to the driver.
func (r *TestRunReconciler) classify(ctx context.Context, rn *run, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		// The call itself was cut short (shutdown, the driver's reconcile timeout): whatever
		// the step reported, it is not the run's fault. The next call resumes. The chain is
		// dropped on purpose, so that no failure inside it ends the run.
		return fmt.Errorf("interrupted: %s", err.Error())
	}
	var f *failure
	if errors.As(err, &f) {
		if f.tier == "" {
			f.tier = r.currentTier(rn)
		}
		return f
	}
	if reason, final := reasonFor(err); final {
		return &failure{reason: reason, tier: r.currentTier(rn), err: err}
	}
	return err
}

// loadRecipe reads the run's Recipe. A missing Recipe fails the run: the TestRun names a
// recipe that does not exist, which no retry of this object repairs. A Recipe whose spec
// changed since the run resolved fails it too: the run tests the spec it started with, or
// nothing (see pinned).
func (r *TestRunReconciler) loadRecipe(ctx context.Context, rn *run) error {
	rc := &v1alpha1.Recipe{}
	if err := r.o.Store.Get(ctx, rn.tr.Spec.Recipe, rc); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &failure{reason: v1alpha1.ReasonRecipeNotFound,
				err: fmt.Errorf("recipe %q not found", rn.tr.Spec.Recipe)}
		}
		return fmt.Errorf("get recipe: %w", err)
	}
	rn.rc = rc
	return pinned(rn.tr, rc)
}

// pinned fails a run whose TestRun or Recipe spec changed since it resolved: a run deploys
// the specs it resolved, base and head alike, so an edit in flight must not reach the head's
// deploy. Delete the run and create it again to test the new spec.
func pinned(tr *v1alpha1.TestRun, rc *v1alpha1.Recipe) error {
	if !apimeta.IsStatusConditionTrue(tr.Status.Conditions, v1alpha1.ConditionResolved) {
		return nil
	}
	switch {
	case tr.Status.ObservedGeneration != 0 && tr.Generation != tr.Status.ObservedGeneration:
		return &failure{reason: v1alpha1.ReasonSpecChanged, err: fmt.Errorf(
			"testrun %s changed while the run was in flight (generation %d, resolved at %d): delete and create it again to run the new spec",
			tr.Name, tr.Generation, tr.Status.ObservedGeneration)}
	case tr.Status.RecipeGeneration != 0 && rc.Generation != tr.Status.RecipeGeneration:
		return &failure{reason: v1alpha1.ReasonSpecChanged, err: fmt.Errorf(
			"recipe %s changed while the run was in flight (generation %d, resolved at %d): run again to test the new spec",
			rc.Name, rc.Generation, tr.Status.RecipeGeneration)}
	}
	return nil
}

// source opens the recipe's source once per run and process.
func (r *TestRunReconciler) source(ctx context.Context, rn *run) (*stack.Source, error) {
	if rn.mem.src != nil {
		return rn.mem.src, nil
	}
	src, err := r.stacks.Open(ctx, rn.rc.Spec.Source.URL)
	if err != nil {
		if reason, final := stack.Reason(err); final {
			return nil, &failure{reason: reason, err: err}
		}
		return nil, err
	}
	rn.mem.src = src
	return src, nil
}

// save stores the run's status; the stored object (with its new resourceVersion) replaces
// rn.tr. A conflict is returned for the driver to retry from a fresh read.
func (r *TestRunReconciler) save(ctx context.Context, rn *run) error {
	if err := r.o.Store.UpdateStatus(ctx, rn.tr); err != nil {
		return fmt.Errorf("update status: %w", err)
	}
	return nil
}

// event records an event on the TestRun, masked. Events are informative: one that cannot be
// written is logged, not retried, since the status already holds the facts.
func (r *TestRunReconciler) event(ctx context.Context, rn *run, typ v1alpha1.EventType, reason, format string, args ...any) {
	r.eventOn(ctx, rn.tr, rn.masker(), typ, reason, fmt.Sprintf(format, args...))
}

func (r *TestRunReconciler) eventOn(ctx context.Context, tr *v1alpha1.TestRun, m *mask.Masker, typ v1alpha1.EventType, reason, msg string) {
	msg = m.String(msg)
	logr.FromContextOrDiscard(ctx).Info("testrun event", "type", typ, "reason", reason, "message", msg)
	ref := v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: tr.Name, UID: tr.UID}
	if err := r.o.Store.RecordEvent(context.WithoutCancel(ctx), ref, typ, reason, msg); err != nil {
		logr.FromContextOrDiscard(ctx).V(1).Info("event not recorded", "reason", reason, "error", err.Error())
	}
}

// setCondition sets a condition with the injected clock's transition time.
func (r *TestRunReconciler) setCondition(tr *v1alpha1.TestRun, typ string, status metav1.ConditionStatus, reason, msg string) {
	apimeta.SetStatusCondition(&tr.Status.Conditions, v1alpha1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg,
		ObservedGeneration: observed(tr), LastTransitionTime: v1alpha1.Time{Time: r.now()},
	})
}

// forget drops what this process remembers of a TestRun that is gone or finished, stops its
// checks, and gives its place in flight to the run waiting first.
func (r *TestRunReconciler) forget(name string) {
	r.checks.cancel(name)
	r.memory.drop(name)
	if next := r.memory.release(name); next != "" && r.o.Wake != nil {
		r.o.Wake(controller.Request{Kind: v1alpha1.KindTestRun, Name: next})
	}
}

// queue says, once, that a run waits for a place in flight, and asks again later; a
// finishing run wakes it sooner.
func (r *TestRunReconciler) queue(ctx context.Context, tr *v1alpha1.TestRun) (next, error) {
	if c := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionSucceeded); c == nil {
		r.setCondition(tr, v1alpha1.ConditionSucceeded, v1alpha1.ConditionUnknown, v1alpha1.ReasonQueued,
			fmt.Sprintf("waiting for one of the %d runs in flight to finish", r.o.MaxRuns))
		if err := r.o.Store.UpdateStatus(ctx, tr); err != nil {
			return next{}, fmt.Errorf("update status: %w", err)
		}
	}
	return after(queuedPoll), nil
}

func conditionTrue(typ string) func(*v1alpha1.TestRun) bool {
	return func(tr *v1alpha1.TestRun) bool {
		return apimeta.IsStatusConditionTrue(tr.Status.Conditions, typ)
	}
}

// finished reports whether the run has its verdict.
func finished(tr *v1alpha1.TestRun) bool {
	c := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionSucceeded)
	return c != nil && c.Status != v1alpha1.ConditionUnknown
}

// runTimeout is spec.timeout, defaulted.
func runTimeout(tr *v1alpha1.TestRun) time.Duration {
	if tr.Spec.Timeout == nil || tr.Spec.Timeout.Duration <= 0 {
		return v1alpha1.DefaultRunTimeout
	}
	return tr.Spec.Timeout.Duration
}

// observed is the generation the run works to: the one it was resolved at.
func observed(tr *v1alpha1.TestRun) int64 {
	if tr.Status.ObservedGeneration != 0 {
		return tr.Status.ObservedGeneration
	}
	return tr.Generation
}
