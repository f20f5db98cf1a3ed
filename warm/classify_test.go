package warm_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/warm"
)

func runLabels(run string) map[string]string {
	return map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelTestRun: run}
}

func warmLabels(rc string) map[string]string {
	return map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelWarm: rc}
}

// stackOf builds a stack of one service and one network with the given labels, changed at t.
func stackOf(name string, labels map[string]string, t time.Time) *inventory.Stack {
	l := map[string]string{deploy.LabelNamespace: name}
	for k, v := range labels {
		l[k] = v
	}
	return &inventory.Stack{
		Name:     name,
		Services: []inventory.Object{{Kind: inventory.KindService, ID: name + "-s", Name: name + "_app", Stack: name, Labels: l, CreatedAt: t, UpdatedAt: t}},
		Networks: []inventory.Object{{Kind: inventory.KindNetwork, ID: name + "-n", Name: name + "_default", Stack: name, Labels: l, CreatedAt: t, UsedBy: []string{name + "_app"}}},
		Volumes:  []inventory.Object{{Kind: inventory.KindVolume, ID: name + "_data", Name: name + "_data", Stack: name, Labels: map[string]string{deploy.LabelNamespace: name}}},
	}
}

func inv(stacks ...*inventory.Stack) *inventory.Inventory {
	out := &inventory.Inventory{Stacks: map[string]*inventory.Stack{}}
	for _, s := range stacks {
		out.Stacks[s.Name] = s
	}
	return out
}

func finished(name string, status metav1.ConditionStatus, teardown v1alpha1.TeardownPolicy, at time.Time) *v1alpha1.TestRun {
	return &v1alpha1.TestRun{
		ObjectMeta: v1alpha1.ObjectMeta{Name: name},
		Spec:       v1alpha1.TestRunSpec{Recipe: "keycloak", Teardown: teardown},
		Status: v1alpha1.TestRunStatus{
			Conditions:  []v1alpha1.Condition{{Type: v1alpha1.ConditionSucceeded, Status: status, LastTransitionTime: v1alpha1.Time{Time: at}}},
			CompletedAt: &v1alpha1.Time{Time: at},
		},
	}
}

func canonicalRecipe(name string) *v1alpha1.Recipe {
	r := enrolled(name)
	r.Status.Canonical = &v1alpha1.Canonical{Version: "0.8.1+3.5.0", Commit: c081}
	return r
}

// byName indexes a plan by item name, with the list each item is in.
func byName(p warm.Plan) map[string]string {
	out := map[string]string{}
	for list, items := range map[string][]warm.Item{"stale": p.Stale, "unmanaged": p.Unmanaged, "kept": p.Kept} {
		for _, it := range items {
			out[it.Name] = list + ": " + it.Why
		}
	}
	return out
}

func TestClassify(t *testing.T) {
	grace := 10 * time.Minute
	old, recent := now.Add(-time.Hour), now.Add(-time.Minute)
	running := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: "r-running"},
		Status: v1alpha1.TestRunStatus{Conditions: []v1alpha1.Condition{{Type: v1alpha1.ConditionSucceeded, Status: v1alpha1.ConditionUnknown}}}}
	deleting := finished("r-deleting", v1alpha1.ConditionUnknown, "", old)
	deleting.DeletionTimestamp = &old
	notWarm := canonicalRecipe("notwarm")
	notWarm.Spec.Warm = false
	mixed := stackOf("mixed", runLabels("r-gone"), old)
	mixed.Networks[0].Labels = map[string]string{deploy.LabelNamespace: "mixed"}
	unowned := stackOf("unowned", map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}, old)
	// A check's one-shot service left behind by a crash carries managed-by and its role only.
	withCheck := stackOf("run-with-check", runLabels("r-gone"), old)
	withCheck.Services = append(withCheck.Services, inventory.Object{Kind: inventory.KindService, ID: "chk", Name: "run-with-check_check-http",
		Stack: "run-with-check", Labels: map[string]string{deploy.LabelNamespace: "run-with-check",
			v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelRole: v1alpha1.RoleCheck}})
	twoOwners := stackOf("two-owners", runLabels("r-gone"), old)
	twoOwners.Networks[0].Labels = warmLabels("keycloak")

	in := warm.ClassifyInput{
		Inventory: inv(
			stackOf("run-gone-old", runLabels("r-gone"), old),
			stackOf("run-gone-recent", runLabels("r-gone2"), recent),
			stackOf("run-running", runLabels("r-running"), old),
			stackOf("run-done-old", runLabels("r-done-old"), old),
			stackOf("run-done-recent", runLabels("r-done-recent"), old),
			stackOf("run-never", runLabels("r-never"), old),
			stackOf("run-onsuccess-red", runLabels("r-onsuccess-red"), old),
			stackOf("run-onsuccess-green", runLabels("r-onsuccess-green"), old),
			stackOf("run-deleting", runLabels("r-deleting"), old),
			stackOf("warm-keycloak", warmLabels("keycloak"), old),
			stackOf("warm-nocanon", warmLabels("nocanon"), old),
			stackOf("warm-notwarm", warmLabels("notwarm"), old),
			stackOf("warm-gone", warmLabels("gone"), old),
			stackOf("warm-legacy", nil, old),
			stackOf("warm-kc2", nil, old),
			stackOf("warm-up", nil, old),
			stackOf("warm-kc2_example_org", nil, old),
			stackOf("warm-nocanon_example_org", nil, old),
			stackOf("demo", nil, old),
			stackOf("other-tool", map[string]string{"managed-by": "portainer"}, old),
			mixed, unowned, withCheck, twoOwners,
		),
		Recipes: []*v1alpha1.Recipe{canonicalRecipe("keycloak"), enrolled("nocanon"), notWarm, canonicalRecipe("kc2"), enrolled("legacy")},
		TestRuns: []*v1alpha1.TestRun{
			running, deleting,
			finished("r-done-old", v1alpha1.ConditionTrue, v1alpha1.TeardownAlways, old),
			finished("r-done-recent", v1alpha1.ConditionFalse, v1alpha1.TeardownAlways, recent),
			finished("r-never", v1alpha1.ConditionTrue, v1alpha1.TeardownNever, old),
			finished("r-onsuccess-red", v1alpha1.ConditionFalse, v1alpha1.TeardownOnSuccess, old),
			finished("r-onsuccess-green", v1alpha1.ConditionTrue, v1alpha1.TeardownOnSuccess, old),
		},
		Policy: warm.Policy{Grace: grace},
		Now:    now,
	}
	want := map[string]string{
		"run-gone-old":        "stale: TestRun r-gone no longer exists",
		"run-gone-recent":     "kept: TestRun r-gone2 not found; stale after grace",
		"run-running":         "kept: TestRun r-running is running",
		"run-done-old":        "stale: TestRun r-done-old finished 1h0m0s ago; teardown Always pending",
		"run-done-recent":     "kept: TestRun r-done-recent finished; its teardown has until grace",
		"run-never":           "kept: TestRun r-never finished; teardown Never keeps its stack",
		"run-onsuccess-red":   "kept: TestRun r-onsuccess-red finished; teardown OnSuccess keeps",
		"run-onsuccess-green": "stale: TestRun r-onsuccess-green finished 1h0m0s ago; teardown OnSuccess pending",
		"run-deleting":        "stale: TestRun r-deleting has been deleting for 1h0m0s",
		"warm-keycloak":       "kept: warm stack of Recipe keycloak (canonical 0.8.1+3.5.0)",
		"warm-nocanon":        "stale: Recipe nocanon has no canonical record",
		"warm-notwarm":        "stale: Recipe notwarm is not warm",
		"warm-gone":           "stale: Recipe gone no longer exists",
		"warm-legacy":         "unmanaged: unlabelled warm-looking stack; recipe legacy has no canonical record (adopt with --adopt-warm)",
		"warm-kc2":            "unmanaged: unlabelled warm-looking stack; recipe kc2 has canonical 0.8.1+3.5.0, so it is not adopted",
		"warm-up":             "unmanaged: unlabelled warm-looking stack; no Recipe up exists, so it is not adopted",
		// abra names an app <recipe>_<domain>: these are recipe kc2's and nocanon's.
		"warm-kc2_example_org":     "unmanaged: unlabelled warm-looking stack; recipe kc2 has canonical 0.8.1+3.5.0, so it is not adopted",
		"warm-nocanon_example_org": "unmanaged: unlabelled warm-looking stack; recipe nocanon has no canonical record (adopt with --adopt-warm)",
		"mixed":                    "unmanaged: ownership unclear: 1 of 2 objects lack swarmrun.dev/managed-by=swarmrun",
		"unowned":                  "unmanaged: ownership unclear: managed but names no owner",
		"run-with-check":           "stale: TestRun r-gone no longer exists",
		"two-owners":               "unmanaged: ownership unclear: objects name different owners (testruns r-gone, warm keycloak)",
	}
	check := func(t *testing.T, p warm.Plan, want map[string]string) {
		t.Helper()
		got := byName(p)
		for name, w := range want {
			if !strings.HasPrefix(got[name], w) {
				t.Errorf("%s:\n got  %q\n want %q...", name, got[name], w)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("%s is in the plan (%s) but should be ignored", name, got[name])
			}
		}
		if p.Ignored != 2 {
			t.Errorf("ignored = %d, want 2 (demo, other-tool)", p.Ignored)
		}
	}
	p := warm.Classify(in)
	check(t, p, want)
	for _, it := range p.Stale {
		wantVolumes := strings.HasPrefix(it.Name, "run-")
		if it.Volumes != wantVolumes || it.Kind != warm.KindStack || it.Adopted {
			t.Errorf("%s: volumes %v kind %s adopted %v", it.Name, it.Volumes, it.Kind, it.Adopted)
		}
	}

	t.Run("adopt", func(t *testing.T) {
		in := in
		in.Policy.AdoptWarm = true
		p := warm.Classify(in)
		want := clone(want)
		want["warm-legacy"] = "stale: unlabelled warm-looking stack adopted; recipe legacy has no canonical record"
		want["warm-nocanon_example_org"] = "stale: unlabelled warm-looking stack adopted; recipe nocanon has no canonical record"
		check(t, p, want)
		adopted := map[string]string{"warm-legacy": "legacy", "warm-nocanon_example_org": "nocanon"}
		for _, it := range p.Stale {
			if recipe, ok := adopted[it.Name]; ok && (!it.Adopted || it.Volumes || it.Owner.Name != recipe) {
				t.Errorf("adopted item = %+v", it)
			}
		}
	})
}

func clone(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestClassifyLooseObjects(t *testing.T) {
	grace := 10 * time.Minute
	old := now.Add(-time.Hour)
	managed := map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}
	loose := func(kind, name string, labels map[string]string, usedBy ...string) inventory.Object {
		return inventory.Object{Kind: kind, ID: "id-" + name, Name: name, Labels: labels, UsedBy: usedBy, CreatedAt: old}
	}
	i := inv(stackOf("run-gone", runLabels("r-gone"), old), stackOf("keep", runLabels("r-live"), old))
	i.Loose = []inventory.Object{
		{Kind: inventory.KindNetwork, ID: "ingress", Name: "ingress", Predefined: true, Labels: managed},
		loose(inventory.KindNetwork, "proxy", managed),
		loose(inventory.KindSecret, "gen_pw", managed),
		loose(inventory.KindSecret, "used_pw", managed, "keep_app"),
		loose(inventory.KindSecret, "freed_pw", managed, "run-gone_app"),
		loose(inventory.KindConfig, "run_conf", runLabels("r-live")),
		loose(inventory.KindConfig, "gone_conf", runLabels("r-gone")),
		loose(inventory.KindSecret, "theirs", nil),
		loose(inventory.KindVolume, "vol", managed),
		loose(inventory.KindService, "svc", managed),
	}
	live := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: "r-live"}}
	p := warm.Classify(warm.ClassifyInput{Inventory: i, TestRuns: []*v1alpha1.TestRun{live}, Policy: warm.Policy{Grace: grace}, Now: now})
	got := byName(p)
	want := map[string]string{
		"run-gone":  "stale: TestRun r-gone no longer exists",
		"keep":      "kept: TestRun r-live is running",
		"proxy":     "stale: unused; unused and names no owner",
		"gen_pw":    "stale: unused; unused and names no owner",
		"used_pw":   "kept: used by keep_app",
		"freed_pw":  "stale: unused; unused and names no owner",
		"run_conf":  "kept: TestRun r-live is running",
		"gone_conf": "stale: unused; TestRun r-gone no longer exists",
	}
	for name, w := range want {
		if !strings.HasPrefix(got[name], w) {
			t.Errorf("%s: got %q, want %q...", name, got[name], w)
		}
	}
	for _, name := range []string{"ingress", "theirs", "vol", "svc"} {
		if g, ok := got[name]; ok {
			t.Errorf("%s must be ignored, got %q", name, g)
		}
	}
	var order []string
	for _, it := range p.Stale {
		order = append(order, it.Kind)
	}
	if strings.Join(order, ",") != "stack,secret,secret,config,network" {
		t.Errorf("removal order = %v, want stacks, secrets, configs, networks", order)
	}
}

func TestClassifyVolumeOnlyStacks(t *testing.T) {
	vols := func(name string, labels map[string]string) *inventory.Stack {
		l := map[string]string{deploy.LabelNamespace: name}
		for k, v := range labels {
			l[k] = v
		}
		return &inventory.Stack{Name: name, Volumes: []inventory.Object{{Kind: inventory.KindVolume, ID: name + "_data", Name: name + "_data", Stack: name, Labels: l}}}
	}
	in := warm.ClassifyInput{
		Inventory: inv(vols("warm-legacy", nil), vols("run-x", nil), vols("warm-kc", warmLabels("kc")), vols("run-y", runLabels("gone"))),
		Policy:    warm.Policy{AdoptWarm: true},
		Now:       now,
	}
	got := byName(warm.Classify(in))
	want := map[string]string{
		"warm-kc": "kept: only volumes left, kept: Recipe kc no longer exists",
		"run-y":   "stale: TestRun gone no longer exists",
	}
	if len(got) != len(want) {
		t.Errorf("plan = %v: stacks of unlabelled volumes alone are ignored, even warm-looking ones", got)
	}
	for name, w := range want {
		if !strings.HasPrefix(got[name], w) {
			t.Errorf("%s: got %q, want %q...", name, got[name], w)
		}
	}
	in.Policy.WarmVolumes = true
	if got := byName(warm.Classify(in))["warm-kc"]; !strings.HasPrefix(got, "stale: Recipe kc no longer exists") {
		t.Errorf("with warm volumes: %q", got)
	}
}

func TestClassifyLooseWithinGrace(t *testing.T) {
	i := inv()
	i.Loose = []inventory.Object{{Kind: inventory.KindSecret, ID: "x", Name: "fresh_pw", CreatedAt: now.Add(-time.Minute),
		Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}}}
	p := warm.Classify(warm.ClassifyInput{Inventory: i, Now: now})
	if len(p.Stale) != 0 || len(p.Kept) != 1 {
		t.Fatalf("a secret created a minute ago for a deploy about to happen must be kept: %+v", p)
	}
}

func metav1ConditionStatus(s string) metav1.ConditionStatus { return metav1.ConditionStatus(s) }
