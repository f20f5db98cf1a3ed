package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/client"
	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// objects is the method set the store and the client share, so that code written against it
// runs in-process or remotely. Status writes are the store's alone: the controllers write
// status in process, and clients never can.
type objects interface {
	Create(ctx context.Context, obj v1alpha1.Object) error
	Get(ctx context.Context, name string, into v1alpha1.Object) error
	List(ctx context.Context, kind string) ([]v1alpha1.Object, string, error)
	Update(ctx context.Context, obj v1alpha1.Object) error
	Apply(ctx context.Context, obj v1alpha1.Object) (store.ApplyResult, error)
	Delete(ctx context.Context, kind, name string) (v1alpha1.Object, error)
	Watch(ctx context.Context, kind, since string) (<-chan store.WatchEvent, error)
	RecordEvent(ctx context.Context, ref v1alpha1.ObjectReference, typ v1alpha1.EventType, reason, message string) error
	Events(ctx context.Context, kind, name string) ([]v1alpha1.Event, error)
	AllEvents(ctx context.Context) ([]v1alpha1.Event, error)
	WatchEvents(ctx context.Context, kind, name string) (<-chan store.EventChange, error)
}

var (
	_ objects = (*store.Store)(nil)
	_ objects = (*client.Client)(nil)
)

func start(t *testing.T, o ...store.Options) (*client.Client, *store.Store) {
	t.Helper()
	dir, err := os.MkdirTemp("", "sr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var so store.Options
	if len(o) > 0 {
		so = o[0]
	}
	st, err := store.Open(filepath.Join(dir, "store.db"), so)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "api.sock")
	ln, err := server.ListenUnix(t.Context(), sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, ln, server.New(st, server.Options{}), time.Second) }()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	c, err := client.New(sock, "")
	if err != nil {
		t.Fatal(err)
	}
	return c, st
}

func testRun(name, recipe string) *v1alpha1.TestRun {
	return &v1alpha1.TestRun{
		ObjectMeta: v1alpha1.ObjectMeta{Name: name},
		Spec:       v1alpha1.TestRunSpec{Recipe: recipe},
	}
}

func TestRoundTrip(t *testing.T) {
	c, _ := start(t)
	ctx := t.Context()
	tr := testRun("a", "r")
	if res, err := c.Apply(ctx, tr); err != nil || res != store.Created {
		t.Fatalf("apply = %s, %v; want created", res, err)
	}
	if res, err := c.Apply(ctx, testRun("a", "r")); err != nil || res != store.Unchanged {
		t.Fatalf("re-apply = %s, %v; want unchanged", res, err)
	}
	newHead := testRun("a", "r")
	newHead.Spec.Head = "4f1c2a9e"
	if res, err := c.Apply(ctx, newHead); err != nil || res != store.Configured {
		t.Fatalf("apply new spec = %s, %v; want configured", res, err)
	}
	if err := c.Create(ctx, testRun("a", "r")); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("create taken name: %v, want ErrAlreadyExists", err)
	}

	var got v1alpha1.TestRun
	if err := c.Get(ctx, "a", &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Head != "4f1c2a9e" || got.Generation != 2 || got.Spec.Teardown != v1alpha1.TeardownAlways {
		t.Errorf("get = %+v, want the new head, generation 2, defaults filled", got)
	}
	objs, rv, err := c.List(ctx, v1alpha1.KindTestRun)
	if err != nil || len(objs) != 1 || rv != got.ResourceVersion {
		t.Fatalf("list = %d objects rv %s, %v", len(objs), rv, err)
	}

	ref := v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: "a"}
	if err := c.RecordEvent(ctx, ref, v1alpha1.EventWarning, "ImagePullFailed", "no such image"); err != nil {
		t.Fatal(err)
	}
	events, err := c.Events(ctx, v1alpha1.KindTestRun, "a")
	if err != nil || len(events) != 1 || events[0].Reason != "ImagePullFailed" || events[0].Object.UID != got.UID {
		t.Fatalf("events = %+v, %v", events, err)
	}

	if _, err := c.Delete(ctx, v1alpha1.KindTestRun, "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, "a", &got); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
	if _, err := c.Delete(ctx, v1alpha1.KindTestRun, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
}

// Acceptance 3 through the API: two clients, same resourceVersion, one wins.
func TestTwoClientsSameVersion(t *testing.T) {
	c1, _ := start(t)
	ctx := t.Context()
	tr := testRun("a", "r")
	if err := c1.Create(ctx, tr); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			mine := *tr
			mine.Spec.Head = fmt.Sprint("head-", i)
			errs[i] = c1.Update(ctx, &mine)
		})
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("errs = %v, want exactly one nil", errs)
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, store.ErrConflict) {
			t.Errorf("loser: %v, want ErrConflict", err)
		}
	}
}

// Acceptance 6 through the API: a controller's status write (in process, on the store) and a
// client's spec write keep each other.
func TestStatusAndSpecWritesKeepEachOther(t *testing.T) {
	c, s := start(t)
	ctx := t.Context()
	tr := testRun("a", "r")
	if err := c.Create(ctx, tr); err != nil {
		t.Fatal(err)
	}
	st := *tr
	st.Spec.Recipe = "changed-in-status-write"
	st.Status.Level = 4
	if err := s.UpdateStatus(ctx, &st); err != nil {
		t.Fatal(err)
	}
	if st.Spec.Recipe != "r" || st.Generation != 1 || st.Status.Level != 4 {
		t.Fatalf("after status write: %+v", st)
	}
	sp := *tr // stale status in hand, fresh version needed
	sp.ResourceVersion = st.ResourceVersion
	sp.Spec.Head = "new"
	if err := c.Update(ctx, &sp); err != nil {
		t.Fatal(err)
	}
	if sp.Status.Level != 4 || sp.Generation != 2 {
		t.Fatalf("after spec write: level %d generation %d", sp.Status.Level, sp.Generation)
	}
}

func TestDeleteWithFinalizerThroughAPI(t *testing.T) {
	c, s := start(t)
	ctx := t.Context()
	tr := testRun("a", "r")
	tr.Finalizers = []string{v1alpha1.FinalizerTeardown, "example.org/hold"}
	if err := c.Create(ctx, tr); err != nil {
		t.Fatal(err)
	}
	obj, err := c.Delete(ctx, v1alpha1.KindTestRun, "a")
	if err != nil || obj.GetObjectMeta().DeletionTimestamp == nil {
		t.Fatalf("delete = %+v, %v; want marked", obj, err)
	}
	// A client may not drop swarmrun's teardown finalizer: the object would go without its
	// stack's teardown. Its own finalizers are its own.
	got := obj.(*v1alpha1.TestRun)
	got.Finalizers = nil
	if err := c.Update(ctx, got); !errors.Is(err, store.ErrInvalid) && !strings.Contains(fmt.Sprint(err), "metadata.finalizers") {
		t.Fatalf("dropping swarmrun's finalizer: %v, want a refusal naming metadata.finalizers", err)
	}
	if err := c.Get(ctx, "a", got); err != nil {
		t.Fatal(err)
	}
	got.Finalizers = []string{v1alpha1.FinalizerTeardown}
	if err := c.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	// The controller (in process, on the store) drops its own.
	got.Finalizers = nil
	if err := s.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, "a", &v1alpha1.TestRun{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after last finalizer: %v", err)
	}
}

func TestWatchThroughAPI(t *testing.T) {
	c, _ := start(t)
	ctx := t.Context()
	if err := c.Create(ctx, testRun("a", "r")); err != nil {
		t.Fatal(err)
	}
	_, rv, err := c.List(ctx, v1alpha1.KindTestRun)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, testRun("b", "r")); err != nil {
		t.Fatal(err)
	}
	ch, err := c.Watch(ctx, v1alpha1.KindTestRun, rv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, v1alpha1.KindTestRun, "a"); err != nil {
		t.Fatal(err)
	}
	want := []string{"ADDED b", "DELETED a"}
	for _, w := range want {
		select {
		case ev := <-ch:
			if got := fmt.Sprint(ev.Type, " ", ev.Object.GetObjectMeta().Name); got != w {
				t.Fatalf("event = %s, want %s", got, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event, want %s", w)
		}
	}
}

func TestWatchTooOldRelistsThroughAPI(t *testing.T) {
	c, _ := start(t, store.Options{History: 1})
	ctx := t.Context()
	for _, n := range []string{"a", "b", "c", "d"} {
		if err := c.Create(ctx, testRun(n, "r")); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := c.Watch(ctx, v1alpha1.KindTestRun, "1")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-ch:
		if ev.Type != store.Relist {
			t.Fatalf("event = %s, want RELIST", ev.Type)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no RELIST")
	}
	if _, ok := <-ch; ok {
		t.Error("stream open after RELIST")
	}
}

func TestEventsThroughAPI(t *testing.T) {
	c, _ := start(t)
	ctx := t.Context()
	for _, n := range []string{"a", "b"} {
		if err := c.Create(ctx, testRun(n, "r")); err != nil {
			t.Fatal(err)
		}
	}
	ref := func(n string) v1alpha1.ObjectReference {
		return v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: n}
	}
	if err := c.RecordEvent(ctx, ref("a"), v1alpha1.EventNormal, "Applied", "base applied"); err != nil {
		t.Fatal(err)
	}
	all, err := c.AllEvents(ctx)
	if err != nil || len(all) != 1 || all[0].Object.Name != "a" || all[0].Reason != "Applied" {
		t.Fatalf("all events = %+v, %v", all, err)
	}

	every, err := c.WatchEvents(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	onlyB, err := c.WatchEvents(ctx, v1alpha1.KindTestRun, "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WatchEvents(ctx, v1alpha1.KindTestRun, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("watching the events of a missing object: %v, want not found", err)
	}
	if err := c.RecordEvent(ctx, ref("a"), v1alpha1.EventNormal, "Applied", "base applied"); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordEvent(ctx, ref("b"), v1alpha1.EventWarning, "CheckFailed", "check http failed"); err != nil {
		t.Fatal(err)
	}
	next := func(ch <-chan store.EventChange) string {
		t.Helper()
		select {
		case ev := <-ch:
			return fmt.Sprintf("%s %s %s x%d", ev.Type, ev.Event.Object.Name, ev.Event.Reason, ev.Event.Count)
		case <-time.After(5 * time.Second):
			return "nothing"
		}
	}
	for _, want := range []string{"MODIFIED a Applied x2", "ADDED b CheckFailed x1"} {
		if got := next(every); got != want {
			t.Errorf("every object: %s, want %s", got, want)
		}
	}
	if got, want := next(onlyB), "ADDED b CheckFailed x1"; got != want {
		t.Errorf("testrun b: %s, want %s", got, want)
	}
}

// Applying a file again after a controller added swarmrun's finalizer works: an apply keeps
// the stored finalizers, and is validated as keeping them.
func TestApplyAgainKeepsSwarmrunsFinalizer(t *testing.T) {
	c, s := start(t)
	ctx := t.Context()
	if _, err := c.Apply(ctx, testRun("a", "r")); err != nil {
		t.Fatal(err)
	}
	stored := &v1alpha1.TestRun{}
	if err := s.Get(ctx, "a", stored); err != nil {
		t.Fatal(err)
	}
	stored.Finalizers = []string{v1alpha1.FinalizerTeardown}
	if err := s.Update(ctx, stored); err != nil {
		t.Fatal(err)
	}
	res, err := c.Apply(ctx, testRun("a", "r"))
	if err != nil || res != store.Unchanged {
		t.Fatalf("apply again = %s, %v; want unchanged", res, err)
	}
	if err := s.Get(ctx, "a", stored); err != nil || !stored.HasFinalizer(v1alpha1.FinalizerTeardown) {
		t.Errorf("finalizers after the apply: %v (%v)", stored.Finalizers, err)
	}
}
