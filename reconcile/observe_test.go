package reconcile

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
)

// recordingObserver writes down what it is told, one line a fact.
type recordingObserver struct {
	mu    sync.Mutex
	facts []string
	took  map[string]time.Duration
}

func (o *recordingObserver) add(f string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.facts = append(o.facts, f)
}

func (o *recordingObserver) RunFinished(reason string, level int) {
	o.add(fmt.Sprintf("finished %s level %d", reason, level))
}

func (o *recordingObserver) DeployConverged(role string, took time.Duration) {
	o.add("converged " + role)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.took == nil {
		o.took = map[string]time.Duration{}
	}
	o.took[role] = took
}

func (o *recordingObserver) ServicesPruned(role string, n int) {
	o.add(fmt.Sprintf("pruned %s %d", role, n))
}
func (o *recordingObserver) Promotion(promoted bool) { o.add(fmt.Sprintf("promotion %v", promoted)) }

func (o *recordingObserver) sorted() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Sorted(slices.Values(o.facts))
}

// The observer hears each fact of a run once, as it is stored: a verdict whose first write
// failed, and a finished run reconciled again by a restarted reconciler, count once.
func TestObserverIsToldEachFactOnce(t *testing.T) {
	e := newFakeEnv(t)
	obs := &recordingObserver{}
	e.observer = obs
	spy := &failVerdictOnce{}
	e.wrap = func(s Store) Store { spy.Store = s; return spy }
	e.rec = e.reconciler()
	url, _ := warmRepo(t)
	rc := newRecipe("wo", url)
	rc.Spec.Warm = true
	tr := newTestRun("wo-run", rc.Name, "0.2.0+2")
	tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall, v1alpha1.StageUpgrade}
	tr.Spec.UpgradeBase = "0.1.0+1"
	e.apply(rc, tr)

	got := e.reconcileDone(e.rec, tr.Name, steps)
	if !spy.failed {
		t.Fatal("the verdict's write never failed: the test proves nothing")
	}
	if c := condition(got, v1alpha1.ConditionSucceeded); c.Status != v1alpha1.ConditionTrue {
		t.Fatalf("Succeeded = %+v", c)
	}
	for range 2 {
		if _, err := e.reconciler().Reconcile(t.Context(), controller.Request{Kind: v1alpha1.KindTestRun, Name: tr.Name}); err != nil {
			t.Fatal(err)
		}
	}

	want := []string{
		"converged base",
		"converged head",
		fmt.Sprintf("finished Succeeded level %d", got.Status.Level),
		"promotion true",
		"pruned head 1",
	}
	if facts := obs.sorted(); !slices.Equal(facts, want) {
		t.Errorf("observer was told\n%q\nwant\n%q", facts, want)
	}
	// Stored times are kept to the second; the observer hears the time the look measured.
	for _, d := range got.Status.Deploys {
		if took := d.ConvergedAt.Sub(d.StartedAt.Time); (obs.took[d.Role] - took).Abs() > time.Second {
			t.Errorf("%s converged after %s, observer told %s", d.Role, took, obs.took[d.Role])
		}
	}
}
