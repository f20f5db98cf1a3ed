package inventory

import (
	"fmt"
	"slices"
	"strings"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// Ownership is what an object's or a stack's labels say about who owns it.
type Ownership struct {
	// Managed: every object considered carries swarmrun.dev/managed-by=swarmrun.
	Managed bool
	// TestRun or Warm names the owner of a managed object; at most one is set.
	TestRun string
	Warm    string
	// Conflict, when set, says why the labels do not name one owner (some objects unlabelled,
	// two owners, a managed object naming none). Such a stack is reported, never removed.
	Conflict string
	// Live says the stack has objects besides volumes (StackOwner only).
	Live bool
}

// Owner returns the owner reference to report events on, empty when there is none.
func (o Ownership) Owner() v1alpha1.ObjectReference {
	switch {
	case o.TestRun != "":
		return v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: o.TestRun}
	case o.Warm != "":
		return v1alpha1.ObjectReference{Kind: v1alpha1.KindRecipe, Name: o.Warm}
	}
	return v1alpha1.ObjectReference{}
}

// IsManaged reports whether labels carry swarmrun's managed-by label.
func IsManaged(labels map[string]string) bool {
	return labels[v1alpha1.LabelManagedBy] == v1alpha1.ManagedByValue
}

// ObjectOwner reads one object's labels.
func ObjectOwner(labels map[string]string) Ownership {
	if !IsManaged(labels) {
		return Ownership{}
	}
	o := Ownership{Managed: true, TestRun: labels[v1alpha1.LabelTestRun], Warm: labels[v1alpha1.LabelWarm]}
	if o.TestRun != "" && o.Warm != "" {
		o.Conflict = fmt.Sprintf("labelled both testrun %s and warm %s", o.TestRun, o.Warm)
	}
	return o
}

// StackOwner reads the labels of a stack's services, networks, secrets and configs: the
// objects swarmrun creates and labels. Volumes are created by the engine from the services'
// mounts and carry only the namespace label, so they count only when the stack has nothing
// else left. A stack is managed only when every object counted is, all naming the same owner.
func StackOwner(st *Stack) Ownership {
	o := stackOwner(st)
	o.Live = len(st.Services)+len(st.Networks)+len(st.Secrets)+len(st.Configs) > 0
	return o
}

func stackOwner(st *Stack) Ownership {
	objs := make([]Object, 0, len(st.Services)+len(st.Networks)+len(st.Secrets)+len(st.Configs))
	for _, l := range [][]Object{st.Services, st.Networks, st.Secrets, st.Configs} {
		objs = append(objs, l...)
	}
	if len(objs) == 0 {
		objs = st.Volumes
	}
	var managed, unmanaged []string
	testruns, warms := map[string]bool{}, map[string]bool{}
	for _, o := range objs {
		if !IsManaged(o.Labels) {
			unmanaged = append(unmanaged, o.Kind+" "+o.Name)
			continue
		}
		managed = append(managed, o.Name)
		if r := o.Labels[v1alpha1.LabelTestRun]; r != "" {
			testruns[r] = true
		}
		if w := o.Labels[v1alpha1.LabelWarm]; w != "" {
			warms[w] = true
		}
	}
	switch {
	case len(managed) == 0:
		return Ownership{}
	case len(unmanaged) > 0:
		return Ownership{Conflict: fmt.Sprintf("%d of %d objects lack %s=%s (%s)",
			len(unmanaged), len(objs), v1alpha1.LabelManagedBy, v1alpha1.ManagedByValue, FirstFew(unmanaged))}
	}
	// A managed object that names no owner (a check's one-shot service run without its
	// run's labels: checks.Runner.WithLabels adds them) belongs to the one owner the rest of
	// its stack names.
	o := Ownership{Managed: true}
	switch {
	case len(testruns)+len(warms) == 0:
		o.Conflict = fmt.Sprintf("managed but names no owner (%s or %s)", v1alpha1.LabelTestRun, v1alpha1.LabelWarm)
	case len(testruns)+len(warms) > 1:
		o.Conflict = fmt.Sprintf("objects name different owners (testruns %s, warm %s)", keys(testruns), keys(warms))
	case len(testruns) == 1:
		o.TestRun = only(testruns)
	default:
		o.Warm = only(warms)
	}
	return o
}

func only(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

func keys(m map[string]bool) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}

// FirstFew names the first three of xs, and says when there are more.
func FirstFew(xs []string) string {
	if len(xs) > 3 {
		return strings.Join(xs[:3], ", ") + ", ..."
	}
	return strings.Join(xs, ", ")
}
