package warm

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// Objects is the part of the API that warm reads and writes. *store.Store satisfies it in
// process and *client.Client over the API, so the same code runs in serve and in the CLI.
type Objects interface {
	Get(ctx context.Context, name string, into v1alpha1.Object) error
	List(ctx context.Context, kind string) ([]v1alpha1.Object, string, error)
	Update(ctx context.Context, obj v1alpha1.Object) error
	UpdateStatus(ctx context.Context, obj v1alpha1.Object) error
	RecordEvent(ctx context.Context, ref v1alpha1.ObjectReference, typ v1alpha1.EventType, reason, message string) error
}

var _ Objects = (*store.Store)(nil)

// Reader is the part of the API the garbage collector uses: it lists objects and records
// events, and writes nothing else. The API client satisfies it over the network.
type Reader interface {
	List(ctx context.Context, kind string) ([]v1alpha1.Object, string, error)
	RecordEvent(ctx context.Context, ref v1alpha1.ObjectReference, typ v1alpha1.EventType, reason, message string) error
}

// listRecipes and listTestRuns read the objects Classify looks at.
func listRecipes(ctx context.Context, o Reader) ([]*v1alpha1.Recipe, error) {
	objs, _, err := o.List(ctx, v1alpha1.KindRecipe)
	if err != nil {
		return nil, fmt.Errorf("list recipes: %w", err)
	}
	out := make([]*v1alpha1.Recipe, 0, len(objs))
	for _, obj := range objs {
		if r, ok := obj.(*v1alpha1.Recipe); ok {
			out = append(out, r)
		}
	}
	return out, nil
}

func listTestRuns(ctx context.Context, o Reader) ([]*v1alpha1.TestRun, error) {
	objs, _, err := o.List(ctx, v1alpha1.KindTestRun)
	if err != nil {
		return nil, fmt.Errorf("list testruns: %w", err)
	}
	out := make([]*v1alpha1.TestRun, 0, len(objs))
	for _, obj := range objs {
		if r, ok := obj.(*v1alpha1.TestRun); ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// event records an event on ref. An event is a report, not a step the outcome depends on: an
// object that is gone has nowhere to keep it, and a failure to record it is logged, not
// returned, so that it cannot undo or repeat what was done.
func event(ctx context.Context, o Reader, ref v1alpha1.ObjectReference, typ v1alpha1.EventType, reason, message string) {
	if ref.Name == "" {
		return
	}
	err := o.RecordEvent(ctx, ref, typ, reason, message)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		logr.FromContextOrDiscard(ctx).Error(err, "event not recorded", "kind", ref.Kind, "name", ref.Name, "reason", reason)
	}
}
