package trigger

import (
	"context"
	"slices"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/controller"
)

// Kinds are the kinds whose changes wake the Repository controller (see Wakes).
func Kinds() []string { return []string{v1alpha1.KindRepository, v1alpha1.KindTestRun} }

// Wakes maps a store change to the Repository it concerns, for the controller's
// StoreSource over Kinds: a Repository when its spec changed or a comment became pending
// (the webhook's doing; the controller's own status writes step on through its results), and
// the Repository named by a TestRun's label when the run is created, reaches its verdict, is
// marked for deletion or is gone.
func Wakes(_ context.Context, c controller.Change) ([]controller.Request, error) {
	switch n := c.New.(type) {
	case *v1alpha1.Repository:
		if c.SpecChanged() || newPending(c.Old, n) {
			return []controller.Request{{Kind: v1alpha1.KindRepository, Name: n.Name}}, nil
		}
	case *v1alpha1.TestRun:
		name := n.Labels[v1alpha1.LabelRepository]
		if name == "" {
			return nil, nil
		}
		o, _ := c.Old.(*v1alpha1.TestRun)
		if o == nil || c.Listed || c.Deleted || (o.DeletionTimestamp == nil) != (n.DeletionTimestamp == nil) || verdict(o) != verdict(n) {
			return []controller.Request{{Kind: v1alpha1.KindRepository, Name: name}}, nil
		}
	}
	return nil, nil
}

// newPending reports whether n's status has a pending comment that old's did not.
func newPending(old v1alpha1.Object, n *v1alpha1.Repository) bool {
	o, _ := old.(*v1alpha1.Repository)
	if o == nil {
		return len(n.Status.Pending) > 0
	}
	for _, p := range n.Status.Pending {
		if !slices.Contains(o.Status.Pending, p) {
			return true
		}
	}
	return false
}
