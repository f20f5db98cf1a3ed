package warm_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/warm"
)

// Small pools, so that random labels often name objects that exist and collide.
var (
	poolRecipes = []string{"keycloak", "discourse", "kc"}
	poolRuns    = []string{"r1", "r2", "r3"}
	poolStacks  = []string{"warm-keycloak", "warm-discourse", "warm-x", "warm-", "demo", "r1-abc", "r2-def", "kc", "warmkc",
		"warm-kc_example_org", "warm-x_example_org", "warm-_example_org"}
)

// genLabels draws labels that are swarmrun's, another tool's, half-swarmrun's or none.
func genLabels(t *rapid.T, label string) map[string]string {
	l := map[string]string{}
	switch rapid.IntRange(0, 3).Draw(t, label+".managed") {
	case 0:
		l[v1alpha1.LabelManagedBy] = v1alpha1.ManagedByValue
	case 1:
		l[v1alpha1.LabelManagedBy] = rapid.SampledFrom([]string{"portainer", "Swarmrun", "swarmrun "}).Draw(t, label+".other")
	}
	if rapid.Bool().Draw(t, label+".hasRun") {
		l[v1alpha1.LabelTestRun] = rapid.SampledFrom(poolRuns).Draw(t, label+".run")
	}
	if rapid.IntRange(0, 2).Draw(t, label+".hasWarm") == 0 {
		l[v1alpha1.LabelWarm] = rapid.SampledFrom(poolRecipes).Draw(t, label+".warm")
	}
	return l
}

func genTime(t *rapid.T, label string) time.Time {
	if rapid.IntRange(0, 9).Draw(t, label+".zero") == 0 {
		return time.Time{}
	}
	return now.Add(-time.Duration(rapid.IntRange(0, 7200).Draw(t, label+".ago")) * time.Second)
}

var stackKinds = []string{inventory.KindService, inventory.KindNetwork, inventory.KindSecret, inventory.KindConfig, inventory.KindVolume}

func genInventory(t *rapid.T) *inventory.Inventory {
	inv := &inventory.Inventory{Stacks: map[string]*inventory.Stack{}}
	// A stack's objects share one label set or each draw their own (mixed stacks).
	for i := range rapid.IntRange(0, 6).Draw(t, "stacks") {
		name := rapid.SampledFrom(poolStacks).Draw(t, fmt.Sprintf("stack%d", i))
		if inv.Stacks[name] != nil {
			continue
		}
		st := &inventory.Stack{Name: name}
		shared := genLabels(t, name)
		uniform := rapid.Bool().Draw(t, name+".uniform")
		for j := range rapid.IntRange(1, 5).Draw(t, name+".objects") {
			kind := rapid.SampledFrom(stackKinds).Draw(t, fmt.Sprintf("%s.kind%d", name, j))
			l := shared
			if !uniform {
				l = genLabels(t, fmt.Sprintf("%s.%d", name, j))
			}
			labels := map[string]string{deploy.LabelNamespace: name}
			for k, v := range l {
				labels[k] = v
			}
			o := inventory.Object{Kind: kind, ID: fmt.Sprintf("%s-%d", name, j), Name: fmt.Sprintf("%s_%d", name, j), Stack: name,
				Labels: labels, CreatedAt: genTime(t, fmt.Sprintf("%s.%d.t", name, j))}
			switch kind {
			case inventory.KindService:
				st.Services = append(st.Services, o)
			case inventory.KindNetwork:
				st.Networks = append(st.Networks, o)
			case inventory.KindSecret:
				st.Secrets = append(st.Secrets, o)
			case inventory.KindConfig:
				st.Configs = append(st.Configs, o)
			default:
				st.Volumes = append(st.Volumes, o)
			}
		}
		inv.Stacks[name] = st
	}
	for i := range rapid.IntRange(0, 6).Draw(t, "loose") {
		label := fmt.Sprintf("loose%d", i)
		o := inventory.Object{
			Kind:       rapid.SampledFrom(stackKinds).Draw(t, label+".kind"),
			ID:         label,
			Name:       label,
			Labels:     genLabels(t, label),
			CreatedAt:  genTime(t, label+".t"),
			Predefined: rapid.IntRange(0, 5).Draw(t, label+".predefined") == 0,
		}
		if rapid.Bool().Draw(t, label+".used") {
			o.UsedBy = []string{rapid.SampledFrom([]string{"demo_1", "r1-abc_1", "warm-keycloak_1", "elsewhere"}).Draw(t, label+".user")}
		}
		inv.Loose = append(inv.Loose, o)
	}
	return inv
}

func genRecipes(t *rapid.T) []*v1alpha1.Recipe {
	var out []*v1alpha1.Recipe
	for _, name := range poolRecipes {
		if !rapid.Bool().Draw(t, name+".exists") {
			continue
		}
		r := &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: name}, Spec: v1alpha1.RecipeSpec{Warm: rapid.Bool().Draw(t, name+".warm")}}
		if rapid.Bool().Draw(t, name+".canonical") {
			r.Status.Canonical = &v1alpha1.Canonical{Version: "1.0.0+1", Commit: c081}
		}
		if rapid.IntRange(0, 4).Draw(t, name+".deleting") == 0 {
			d := genTime(t, name+".deletedAt")
			r.DeletionTimestamp = &d
		}
		out = append(out, r)
	}
	return out
}

func genRuns(t *rapid.T) []*v1alpha1.TestRun {
	var out []*v1alpha1.TestRun
	for _, name := range poolRuns {
		if !rapid.Bool().Draw(t, name+".exists") {
			continue
		}
		r := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: name}}
		r.Spec.Teardown = rapid.SampledFrom([]v1alpha1.TeardownPolicy{"", v1alpha1.TeardownAlways, v1alpha1.TeardownOnSuccess, v1alpha1.TeardownNever}).Draw(t, name+".teardown")
		st := rapid.SampledFrom([]string{"", "Unknown", "True", "False"}).Draw(t, name+".succeeded")
		if st != "" {
			at := genTime(t, name+".done")
			r.Status.Conditions = []v1alpha1.Condition{{Type: v1alpha1.ConditionSucceeded, Status: metav1ConditionStatus(st), LastTransitionTime: v1alpha1.Time{Time: at}}}
		}
		if rapid.IntRange(0, 4).Draw(t, name+".deleting") == 0 {
			d := genTime(t, name+".deletedAt")
			r.DeletionTimestamp = &d
		}
		out = append(out, r)
	}
	return out
}

// counted are the objects of a stack that carry its ownership: all but volumes, unless the
// stack has nothing else.
func counted(st *inventory.Stack) []inventory.Object {
	var objs []inventory.Object
	for _, l := range [][]inventory.Object{st.Services, st.Networks, st.Secrets, st.Configs} {
		objs = append(objs, l...)
	}
	if len(objs) == 0 {
		return st.Volumes
	}
	return objs
}

// TestClassifyNeverSelectsUnownedObjects is acceptance 5: over random swarms, labels, Recipes
// and TestRuns, nothing without swarmrun's ownership labels is ever selected for removal,
// except an unlabelled warm-<recipe> stack under the adoption rule.
func TestClassifyNeverSelectsUnownedObjects(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		inv := genInventory(t)
		recipes := genRecipes(t)
		policy := warm.Policy{
			Grace:       time.Duration(rapid.IntRange(0, 3600).Draw(t, "grace")) * time.Second,
			AdoptWarm:   rapid.Bool().Draw(t, "adopt"),
			WarmVolumes: rapid.Bool().Draw(t, "warmVolumes"),
		}
		p := warm.Classify(warm.ClassifyInput{Inventory: inv, Recipes: recipes, TestRuns: genRuns(t), Policy: policy, Now: now})
		canonical := map[string]bool{}
		for _, r := range recipes {
			canonical[r.Name] = r.Status.Canonical != nil
		}
		loose := map[string]inventory.Object{}
		for _, o := range inv.Loose {
			loose[o.ID] = o
		}
		for _, it := range p.Stale {
			if it.Action != warm.ActionRemove {
				t.Fatalf("stale item %s with action %s", it.Name, it.Action)
			}
			if it.Kind != warm.KindStack {
				o, ok := loose[it.ID]
				switch {
				case !ok:
					t.Fatalf("selected %s %s is not in the inventory", it.Kind, it.Name)
				case !inventory.IsManaged(o.Labels):
					t.Fatalf("selected loose %s %s without %s: labels %v", o.Kind, o.Name, v1alpha1.LabelManagedBy, o.Labels)
				case o.Predefined || o.Kind == inventory.KindVolume || o.Kind == inventory.KindService:
					t.Fatalf("selected loose %s %s that GC never removes", o.Kind, o.Name)
				}
				continue
			}
			st := inv.Stacks[it.Stack]
			if st == nil {
				t.Fatalf("selected stack %s is not in the inventory", it.Stack)
			}
			objs := counted(st)
			if len(st.Objects()) == len(st.Volumes) && !it.Volumes {
				t.Fatalf("stack %s has only volumes and its removal keeps them: it would remove nothing, every pass", st.Name)
			}
			if it.Adopted {
				recipe, ok := strings.CutPrefix(st.Name, "warm-")
				recipe, _, _ = strings.Cut(recipe, "_") // abra's <recipe>_<domain>
				hasCanonical, exists := canonical[recipe]
				if !policy.AdoptWarm || !ok || recipe == "" || !exists || hasCanonical || it.Owner.Name != recipe {
					t.Fatalf("adopted %s outside the rule (adopt %v, recipe %q exists %v, canonical %v)", st.Name, policy.AdoptWarm, recipe, exists, hasCanonical)
				}
				for _, o := range objs {
					if inventory.IsManaged(o.Labels) {
						t.Fatalf("adopted %s has a managed object %s: it is half swarmrun's and must only be reported", st.Name, o.Name)
					}
				}
				if it.Volumes {
					t.Fatalf("adopting %s would remove its volumes", st.Name)
				}
				continue
			}
			owners := map[string]bool{}
			for _, o := range objs {
				if !inventory.IsManaged(o.Labels) {
					t.Fatalf("selected stack %s has %s %s without %s: labels %v", st.Name, o.Kind, o.Name, v1alpha1.LabelManagedBy, o.Labels)
				}
				if r := o.Labels[v1alpha1.LabelTestRun]; r != "" {
					owners["run:"+r] = true
				}
				if w := o.Labels[v1alpha1.LabelWarm]; w != "" {
					owners["warm:"+w] = true
				}
			}
			if len(owners) != 1 {
				t.Fatalf("selected stack %s does not name exactly one owner: %v", st.Name, owners)
			}
			isRun := strings.HasPrefix(only(owners), "run:")
			if want := owned(it.Owner); !owners[want] {
				t.Fatalf("stack %s: item owner %s, labels name %v", st.Name, want, owners)
			}
			if isRun != it.Volumes && !(policy.WarmVolumes && !isRun) {
				t.Fatalf("stack %s: volumes %v for a run stack %v", st.Name, it.Volumes, isRun)
			}
		}
		// Whatever is in no list was not swarmrun's business: no managed object, and not
		// warm-looking.
		listed := map[string]bool{}
		for _, items := range [][]warm.Item{p.Stale, p.Unmanaged, p.Kept} {
			for _, it := range items {
				listed[it.Kind+"/"+it.Name] = true
			}
		}
		for name, st := range inv.Stacks {
			if listed[warm.KindStack+"/"+name] {
				continue
			}
			// An abra-style name with no recipe before its "_" names no recipe at all.
			if r, ok := warm.WarmLooking(name); ok && !strings.HasPrefix(r, "_") && len(st.Objects()) > len(st.Volumes) {
				t.Fatalf("warm-looking stack %s is not reported", name)
			}
			for _, o := range counted(st) {
				if inventory.IsManaged(o.Labels) {
					t.Fatalf("stack %s with managed %s %s is in no list", name, o.Kind, o.Name)
				}
			}
		}
	})
}

func only(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

// owned is the owner key of an item's owner reference, as the property test writes it.
func owned(ref v1alpha1.ObjectReference) string {
	if ref.Kind == v1alpha1.KindTestRun {
		return "run:" + ref.Name
	}
	return "warm:" + ref.Name
}
