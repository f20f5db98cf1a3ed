package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/render"
	"github.com/swarmrun/swarmrun/internal/mask"
)

// Store is the part of the object store the TestRun reconciler uses; *store.Store has it.
type Store interface {
	Get(ctx context.Context, name string, into v1alpha1.Object) error
	Update(ctx context.Context, obj v1alpha1.Object) error
	UpdateStatus(ctx context.Context, obj v1alpha1.Object) error
	RecordEvent(ctx context.Context, ref v1alpha1.ObjectReference, typ v1alpha1.EventType, reason, message string) error
	Watch(ctx context.Context, kind, since string) (<-chan store.WatchEvent, error)
}

// CheckRunner runs one recipe check against a stack; *checks.Runner is one.
type CheckRunner interface {
	Run(ctx context.Context, stack string, c v1alpha1.Check, m *mask.Masker) v1alpha1.CheckResult
}

// DefaultAppService is the service that carries a recipe's coop-cloud labels.
const DefaultAppService = "app"

// DefaultDomainSuffix makes a run's DOMAIN: <stack>.<suffix>.
const DefaultDomainSuffix = "swarmrun.localhost"

// Progress is what a run reports while it waits for a deploy to converge, for a live view
// (swarmrun run) and for measurements. Exactly one of Service and Converged is set.
type Progress struct {
	TestRun string
	// Role is the deploy's role: base or head.
	Role string
	// Service is one service's new convergence state.
	Service *converge.Progress
	// Converged is how long the deploy took from the start of its apply until the swarm had
	// converged (wall time: it is a measurement, not a decision).
	Converged time.Duration
}

// Options configure a TestRunReconciler. Store, Engine, Deployer, Checks and DataDir are
// required.
type Options struct {
	Store Store
	// Engine is the Deployer's engine; teardown reads a stack's ownership labels through it
	// before removing anything.
	Engine   deploy.Engine
	Deployer *deploy.Deployer
	Checks   CheckRunner
	// Recipes opens recipe sources; default a cache under <DataDir>/recipes.
	Recipes *recipe.Cache
	// DataDir holds the runs' directories (<DataDir>/runs/<testrun>) and the secret key.
	DataDir string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Stable and Poll tune every convergence wait (converge.Options); zero takes converge's
	// defaults.
	Stable, Poll time.Duration
	// AppService is the service that gets the coop-cloud labels; default DefaultAppService.
	AppService string
	// DomainSuffix makes each run's DOMAIN; default DefaultDomainSuffix.
	DomainSuffix string
	// Progress, when set, receives convergence progress. It must return quickly.
	Progress func(Progress)
	// Promoter, when set, decides whether a finished run of a warm recipe promotes its head
	// to the recipe's canonical (see promote).
	Promoter Promoter
}

// TestRunReconciler drives TestRuns through the run lifecycle (see the package doc).
type TestRunReconciler struct {
	o      Options
	now    func() time.Time
	stacks *stacks

	mu sync.Mutex
	// inflight cancels the reconciles in flight, by TestRun name.
	inflight map[string]context.CancelFunc
}

// NewTestRunReconciler returns a reconciler with the defaults of o filled in. It reads (or
// creates once) the data dir's secret key, from which every run's generated secrets derive.
func NewTestRunReconciler(o Options) (*TestRunReconciler, error) {
	if o.Store == nil || o.Engine == nil || o.Deployer == nil || o.Checks == nil || o.DataDir == "" {
		return nil, errors.New("testrun reconciler: store, engine, deployer, checks and data dir are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s, err := newStacks(stackOptions{deployer: o.Deployer, recipes: o.Recipes, dataDir: o.DataDir, now: o.Now,
		appService: o.AppService, domainSuffix: o.DomainSuffix, stable: o.Stable, poll: o.Poll})
	if err != nil {
		return nil, fmt.Errorf("testrun reconciler: %w", err)
	}
	o.Recipes, o.AppService, o.DomainSuffix = s.recipes, s.appService, s.domainSuffix
	return &TestRunReconciler{o: o, now: o.Now, stacks: s, inflight: map[string]context.CancelFunc{}}, nil
}

// errInterrupted marks a call that Interrupt cut short.
var errInterrupted = errors.New("interrupted by the deletion of the testrun")

// run is one Reconcile call's view of a TestRun: the object as last stored and what this call
// has learnt (the recipe, its source, renders), so that later steps of the same call do not
// read or render twice.
type run struct {
	tr     *v1alpha1.TestRun
	rc     *v1alpha1.Recipe
	src    *recipe.Source
	masker *mask.Masker
	// deadline is when spec.timeout runs out, by the injected clock.
	deadline time.Time
	renders  map[string]*render.Stack
	files    map[string][]string
	// reports are the convergence reports of the deploys made in this call, by role.
	reports map[string]*converge.Report
}

// Reconcile advances one TestRun as far as it can. It is level-based: it reads the TestRun,
// its Recipe and the swarm afresh, skips every step the stored status says is done, and
// stores status after each step, so that a call cut short anywhere resumes where it stopped.
func (r *TestRunReconciler) Reconcile(ctx context.Context, req controller.Request) (controller.Result, error) {
	tr := &v1alpha1.TestRun{}
	if err := r.o.Store.Get(ctx, req.Name, tr); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return controller.Result{}, nil
		}
		return controller.Result{}, fmt.Errorf("get testrun: %w", err)
	}
	log := logr.FromContextOrDiscard(ctx).WithValues("testrun", tr.Name)
	ctx = logr.NewContext(ctx, log)

	if tr.DeletionTimestamp != nil {
		return controller.Result{}, r.finalize(ctx, tr)
	}
	if !tr.HasFinalizer(v1alpha1.FinalizerTeardown) {
		tr.Finalizers = append(tr.Finalizers, v1alpha1.FinalizerTeardown)
		if err := r.o.Store.Update(ctx, tr); err != nil {
			return controller.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}
	if finished(tr) {
		return controller.Result{}, r.teardown(ctx, tr)
	}

	rn := &run{tr: tr, masker: mask.New(), renders: map[string]*render.Stack{}, files: map[string][]string{}, reports: map[string]*converge.Report{}}
	if tr.Status.StartedAt == nil {
		now := v1alpha1.Time{Time: r.now()}
		tr.Status.StartedAt = &now
		r.setCondition(tr, v1alpha1.ConditionSucceeded, v1alpha1.ConditionUnknown, v1alpha1.ReasonProgressing, "run started")
		if err := r.save(ctx, rn); err != nil {
			return controller.Result{}, err
		}
	}
	rn.deadline = tr.Status.StartedAt.Add(runTimeout(tr))

	err := r.advance(ctx, rn)
	var f *failure
	switch {
	case errors.As(err, &f):
		if err := r.fail(ctx, rn, f); err != nil {
			return controller.Result{}, err
		}
	case errors.Is(err, errInterrupted):
		// The TestRun is being deleted: run its finalizer now rather than after a backoff.
		fresh := &v1alpha1.TestRun{}
		if gerr := r.o.Store.Get(ctx, req.Name, fresh); gerr == nil && fresh.DeletionTimestamp != nil {
			return controller.Result{}, r.finalize(ctx, fresh)
		}
		return controller.Result{}, err
	case err != nil:
		return controller.Result{}, err
	}
	return controller.Result{}, r.teardown(ctx, rn.tr)
}

// advance runs the lifecycle's steps that are not done yet, in order, under the run's
// deadline. A *failure ends the run red; any other error is for the driver to retry.
func (r *TestRunReconciler) advance(ctx context.Context, rn *run) error {
	remaining := rn.deadline.Sub(r.now())
	if remaining <= 0 {
		return &failure{reason: v1alpha1.ReasonTimeout, tier: r.currentTier(rn),
			err: fmt.Errorf("run exceeded its timeout of %s", runTimeout(rn.tr))}
	}
	// A run past its timeout stops wherever it is: the deadline reaches every wait.
	runCtx, cancel := context.WithTimeout(ctx, remaining)
	defer cancel()
	// Deleting the TestRun cancels what is in flight (see Interrupt), so that the finalizer
	// tears the stack down without waiting for a deploy to converge.
	defer r.track(rn.tr.Name, cancel)()

	if err := r.loadRecipe(runCtx, rn); err != nil {
		return err
	}
	steps := []struct {
		done func(*v1alpha1.TestRun) bool
		do   func(context.Context, *run) error
	}{
		{conditionTrue(v1alpha1.ConditionResolved), r.resolve},
		{conditionTrue(v1alpha1.ConditionBaseReady), r.deployBase},
		{conditionTrue(v1alpha1.ConditionHeadReady), r.deployHead},
		{conditionTrue(v1alpha1.ConditionPruned), r.prune},
		{conditionTrue(v1alpha1.ConditionVerified), r.verify},
		{tiersDone, r.runTiers},
		{lintDone, r.lint},
		{finished, r.finish},
	}
	for _, s := range steps {
		if s.done(rn.tr) {
			continue
		}
		if err := s.do(runCtx, rn); err != nil {
			return r.classify(ctx, runCtx, rn, err)
		}
	}
	return nil
}

// classify turns a step's error into a run failure when no retry can help (see reasonFor),
// or a timeout when the run's deadline cut the step short.
func (r *TestRunReconciler) classify(ctx, runCtx context.Context, rn *run, err error) error {
	if ctx.Err() != nil {
		// The call itself was cut short (shutdown, the driver's reconcile timeout): whatever
		// the step reported, it is not the run's fault. The next call resumes.
		// The chain is dropped on purpose, so that no failure inside it ends the run.
		return fmt.Errorf("interrupted: %s", err.Error())
	}
	if runCtx.Err() != nil {
		if r.now().Before(rn.deadline) {
			// Cancelled because the TestRun is being deleted (Interrupt).
			return fmt.Errorf("%w: %s", errInterrupted, err.Error())
		}
		return &failure{reason: v1alpha1.ReasonTimeout, tier: r.currentTier(rn),
			err: fmt.Errorf("run exceeded its timeout of %s: %s", runTimeout(rn.tr), err.Error())}
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
// recipe that does not exist, which no retry of this object repairs.
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
	return nil
}

// source opens the recipe's source once per call.
func (r *TestRunReconciler) source(ctx context.Context, rn *run) (*recipe.Source, error) {
	if rn.src != nil {
		return rn.src, nil
	}
	src, err := r.o.Recipes.Open(ctx, rn.rc.Spec.Source.URL)
	if err != nil {
		return nil, &failure{reason: v1alpha1.ReasonSourceFailed, err: err}
	}
	rn.src = src
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
	msg := rn.masker.String(fmt.Sprintf(format, args...))
	logr.FromContextOrDiscard(ctx).Info("testrun event", "type", typ, "reason", reason, "message", msg)
	ref := v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: rn.tr.Name, UID: rn.tr.UID}
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

// Interrupt cancels the reconcile in flight for the TestRun named name, if there is one. The
// store source calls it when a TestRun is marked for deletion: the driver then reconciles the
// TestRun again, and that call runs its finalizer.
func (r *TestRunReconciler) Interrupt(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cancel := r.inflight[name]; cancel != nil {
		cancel()
	}
}

// track makes cancel the interruption of name's reconcile until the returned func is called.
func (r *TestRunReconciler) track(name string, cancel context.CancelFunc) func() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inflight[name] = cancel
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.inflight, name)
	}
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

// observed is the generation the run works to: the one it was resolved at. A TestRun runs the
// spec it had when it started; a later change of its spec is not applied to the run in
// flight (delete and re-create it to run again, as swarmrun run does).
func observed(tr *v1alpha1.TestRun) int64 {
	if tr.Status.ObservedGeneration != 0 {
		return tr.Status.ObservedGeneration
	}
	return tr.Generation
}
