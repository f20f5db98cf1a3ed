package store_test

import (
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

func TestCreateFillsMetadata(t *testing.T) {
	s, c := openStore(t, store.Options{})
	tr := testRun("a", "r")
	tr.Labels = map[string]string{"team": "x"}
	tr.UID = "client-chosen"
	if err := s.Create(t.Context(), tr); err != nil {
		t.Fatal(err)
	}
	switch {
	case tr.UID == "" || tr.UID == "client-chosen":
		t.Errorf("uid = %q, want one the store chose", tr.UID)
	case tr.Generation != 1:
		t.Errorf("generation = %d, want 1", tr.Generation)
	case tr.ResourceVersion == "":
		t.Error("no resourceVersion")
	case !tr.CreationTimestamp.Equal(c.Now()):
		t.Errorf("creationTimestamp = %v, want %v", tr.CreationTimestamp, c.Now())
	case tr.Kind != v1alpha1.KindTestRun || tr.APIVersion != v1alpha1.APIVersion:
		t.Errorf("type = %s %s", tr.APIVersion, tr.Kind)
	case tr.Labels["team"] != "x":
		t.Errorf("labels = %v", tr.Labels)
	}

	var got v1alpha1.TestRun
	if err := s.Get(t.Context(), "a", &got); err != nil {
		t.Fatal(err)
	}
	if got.UID != tr.UID || got.Spec.Recipe != "r" || got.ResourceVersion != tr.ResourceVersion {
		t.Errorf("get = %+v, want what create returned %+v", got, tr)
	}

	err := s.Create(t.Context(), testRun("a", "other"))
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("second create: err = %v, want ErrAlreadyExists", err)
	}
}

func TestErrors(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"get missing", func() error { return s.Get(ctx, "nope", &v1alpha1.TestRun{}) }, store.ErrNotFound},
		{"update missing", func() error { return s.Update(ctx, testRun("nope", "r")) }, store.ErrNotFound},
		{"status of missing", func() error { return s.UpdateStatus(ctx, testRun("nope", "r")) }, store.ErrNotFound},
		{"delete missing", func() error { _, err := s.Delete(ctx, v1alpha1.KindTestRun, "nope"); return err }, store.ErrNotFound},
		{"events of missing", func() error { _, err := s.Events(ctx, v1alpha1.KindTestRun, "nope"); return err }, store.ErrNotFound},
		{"create without name", func() error { return s.Create(ctx, testRun("", "r")) }, store.ErrInvalid},
		{"list unknown kind", func() error { _, _, err := s.List(ctx, "Pod"); return err }, store.ErrInvalid},
		{"watch bad version", func() error { _, err := s.Watch(ctx, "", "x1"); return err }, store.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestListIsSortedWithSnapshotVersion(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	for _, n := range []string{"c", "a", "b"} {
		if err := s.Create(t.Context(), testRun(n, "r")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(t.Context(), &v1alpha1.Recipe{ObjectMeta: v1alpha1.ObjectMeta{Name: "r"}}); err != nil {
		t.Fatal(err)
	}
	objs, rv, err := s.List(t.Context(), v1alpha1.KindTestRun)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.GetObjectMeta().Name)
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Errorf("names = %v, want a b c", names)
	}
	if rv != s.ResourceVersion() {
		t.Errorf("list resourceVersion = %s, want %s", rv, s.ResourceVersion())
	}

	raws, rawRV, err := s.ListJSON(t.Context(), v1alpha1.KindTestRun)
	if err != nil || rawRV != rv || len(raws) != len(objs) {
		t.Fatalf("ListJSON = %d items rv %s, %v; want %d rv %s", len(raws), rawRV, err, len(objs), rv)
	}
	for i, raw := range raws {
		var tr v1alpha1.TestRun
		if err := json.Unmarshal(raw, &tr); err != nil || tr.Name != names[i] || tr.UID == "" {
			t.Errorf("ListJSON item %d = %s, %v; want %s", i, raw, err, names[i])
		}
	}
}

// Acceptance 3: two writers with the same resourceVersion, exactly one wins.
func TestConcurrentUpdatesSameVersionOneWins(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	tr := testRun("a", "r")
	if err := s.Create(t.Context(), tr); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			mine := *tr
			mine.Spec.Head = string(rune('a' + i))
			errs[i] = s.Update(t.Context(), &mine)
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("loser got %v, want ErrConflict", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d writers won, want exactly 1", wins)
	}
}

func TestGenerationAndStatus(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	tr := testRun("a", "r")
	if err := s.Create(ctx, tr); err != nil {
		t.Fatal(err)
	}

	// A status write changes neither spec nor generation.
	st := *tr
	st.Spec.Recipe = "ignored"
	st.Status.Level = 3
	st.Status.Stack = "a-stack"
	if err := s.UpdateStatus(ctx, &st); err != nil {
		t.Fatal(err)
	}
	if st.Spec.Recipe != "r" || st.Generation != 1 || st.Status.Level != 3 {
		t.Fatalf("after status write: recipe=%q generation=%d level=%d", st.Spec.Recipe, st.Generation, st.Status.Level)
	}
	if st.ResourceVersion == tr.ResourceVersion {
		t.Error("status write did not bump resourceVersion")
	}

	// A spec write with stale status in hand keeps the stored status and bumps generation.
	up := st
	up.Status = v1alpha1.TestRunStatus{}
	up.Spec.Head = "ae5a8180"
	if err := s.Update(ctx, &up); err != nil {
		t.Fatal(err)
	}
	if up.Generation != 2 || up.Status.Level != 3 || up.Status.Stack != "a-stack" {
		t.Fatalf("after spec write: generation=%d status=%+v", up.Generation, up.Status)
	}

	// A label-only write bumps resourceVersion but not generation.
	lab := up
	lab.Labels = map[string]string{"x": "y"}
	if err := s.Update(ctx, &lab); err != nil {
		t.Fatal(err)
	}
	if lab.Generation != 2 || lab.ResourceVersion == up.ResourceVersion {
		t.Fatalf("after label write: generation=%d rv=%s (was %s)", lab.Generation, lab.ResourceVersion, up.ResourceVersion)
	}

	// A write that changes nothing stores nothing.
	same := lab
	if err := s.Update(ctx, &same); err != nil {
		t.Fatal(err)
	}
	if same.ResourceVersion != lab.ResourceVersion {
		t.Errorf("no-op update bumped resourceVersion %s -> %s", lab.ResourceVersion, same.ResourceVersion)
	}

	// A stale resourceVersion is a conflict, for spec and status alike.
	stale := *tr
	stale.Spec.Head = "x"
	if err := s.Update(ctx, &stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale update: err = %v, want ErrConflict", err)
	}
	stale.Status.Level = 5
	if err := s.UpdateStatus(ctx, &stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale status update: err = %v, want ErrConflict", err)
	}
}

func TestApply(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	apply := func(tr *v1alpha1.TestRun) store.ApplyResult {
		t.Helper()
		res, err := s.Apply(ctx, tr)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		return res
	}
	if res := apply(testRun("a", "r")); res != store.Created {
		t.Fatalf("first apply = %s, want created", res)
	}
	var cur v1alpha1.TestRun
	if err := s.Get(ctx, "a", &cur); err != nil {
		t.Fatal(err)
	}
	cur.Finalizers = []string{v1alpha1.FinalizerTeardown}
	if err := s.Update(ctx, &cur); err != nil {
		t.Fatal(err)
	}
	cur.Status.Level = 2
	if err := s.UpdateStatus(ctx, &cur); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		tr      *v1alpha1.TestRun
		want    store.ApplyResult
		wantGen int64
	}{
		{"same spec", testRun("a", "r"), store.Unchanged, 1},
		{"new spec", testRun("a", "r2"), store.Configured, 2},
		{"same again", testRun("a", "r2"), store.Unchanged, 2},
		{"labels only", func() *v1alpha1.TestRun {
			tr := testRun("a", "r2")
			tr.Labels = map[string]string{"k": "v"}
			return tr
		}(), store.Configured, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if res := apply(tt.tr); res != tt.want {
				t.Errorf("apply = %s, want %s", res, tt.want)
			}
			if tt.tr.Generation != tt.wantGen {
				t.Errorf("generation = %d, want %d", tt.tr.Generation, tt.wantGen)
			}
			if tt.tr.Status.Level != 2 {
				t.Errorf("status lost: level = %d", tt.tr.Status.Level)
			}
			if !tt.tr.HasFinalizer(v1alpha1.FinalizerTeardown) {
				t.Errorf("finalizers lost: %v", tt.tr.Finalizers)
			}
		})
	}

	stale := testRun("a", "r3")
	stale.ResourceVersion = "1"
	if _, err := s.Apply(ctx, stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("apply with stale resourceVersion: err = %v, want ErrConflict", err)
	}
}

func TestDeleteHonoursFinalizers(t *testing.T) {
	s, c := openStore(t, store.Options{})
	ctx := t.Context()
	tr := testRun("a", "r")
	tr.Finalizers = []string{v1alpha1.FinalizerTeardown}
	if err := s.Create(ctx, tr); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)

	obj, err := s.Delete(ctx, v1alpha1.KindTestRun, "a")
	if err != nil {
		t.Fatal(err)
	}
	dt := obj.GetObjectMeta().DeletionTimestamp
	if dt == nil || !dt.Equal(c.Now()) {
		t.Fatalf("deletionTimestamp = %v, want %v", dt, c.Now())
	}
	// Still there, marked; deleting again changes nothing.
	var got v1alpha1.TestRun
	if err := s.Get(ctx, "a", &got); err != nil {
		t.Fatalf("object gone while a finalizer remains: %v", err)
	}
	again, err := s.Delete(ctx, v1alpha1.KindTestRun, "a")
	if err != nil || again.GetObjectMeta().ResourceVersion != got.ResourceVersion {
		t.Fatalf("second delete: %v, rv %s want %s", err, again.GetObjectMeta().ResourceVersion, got.ResourceVersion)
	}

	// Status writes still work while the finalizer runs.
	got.Status.Level = 1
	if err := s.UpdateStatus(ctx, &got); err != nil {
		t.Fatal(err)
	}
	got.Finalizers = nil
	if err := s.Update(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if err := s.Get(ctx, "a", &v1alpha1.TestRun{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after last finalizer: err = %v, want ErrNotFound", err)
	}

	if err := s.Create(ctx, testRun("b", "r")); err != nil {
		t.Fatal(err)
	}
	obj, err = s.Delete(ctx, v1alpha1.KindTestRun, "b")
	if err != nil || obj.GetObjectMeta().DeletionTimestamp != nil {
		t.Fatalf("delete without finalizers: %v, %+v", err, obj.GetObjectMeta())
	}
	if err := s.Get(ctx, "b", &v1alpha1.TestRun{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: err = %v, want ErrNotFound", err)
	}
}

func TestRecreateAfterDeleteHasFreshIdentity(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	first := testRun("a", "r")
	if err := s.Create(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordEvent(ctx, v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: "a"}, v1alpha1.EventNormal, "Started", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, v1alpha1.KindTestRun, "a"); err != nil {
		t.Fatal(err)
	}
	second := testRun("a", "r")
	if err := s.Create(ctx, second); err != nil {
		t.Fatal(err)
	}
	if second.UID == first.UID || second.Generation != 1 {
		t.Errorf("recreated: uid %s (was %s), generation %d", second.UID, first.UID, second.Generation)
	}
	events, err := s.Events(ctx, v1alpha1.KindTestRun, "a")
	if err != nil || len(events) != 0 {
		t.Errorf("events of the new object = %v, %v; want none", events, err)
	}
}

// Every kind is kept: created, read back by kind, listed, its status written apart from its
// spec, and deleted.
func TestEveryKindIsKept(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	for _, kind := range v1alpha1.Kinds() {
		t.Run(kind, func(t *testing.T) {
			obj, err := store.NewObject(kind)
			if err != nil {
				t.Fatal(err)
			}
			obj.GetObjectMeta().Name = "obj"
			if got, err := store.KindOf(obj); err != nil || got != kind {
				t.Fatalf("KindOf = %q, %v", got, err)
			}
			if err := s.Create(ctx, obj); err != nil {
				t.Fatal(err)
			}
			objs, _, err := s.List(ctx, kind)
			if err != nil || len(objs) != 1 || objs[0].GetObjectMeta().UID != obj.GetObjectMeta().UID {
				t.Fatalf("List(%s) = %v, %v", kind, objs, err)
			}
			// A status write bumps the resourceVersion but not the generation.
			switch o := obj.(type) {
			case *v1alpha1.Recipe:
				o.Status.ObservedGeneration = 1
			case *v1alpha1.TestRun:
				o.Status.ObservedGeneration = 1
			case *v1alpha1.Repository:
				o.Status.ObservedGeneration = 1
			default:
				t.Fatalf("no status to write for %T", obj)
			}
			rv := obj.GetObjectMeta().ResourceVersion
			if err := s.UpdateStatus(ctx, obj); err != nil {
				t.Fatal(err)
			}
			if m := obj.GetObjectMeta(); m.ResourceVersion == rv || m.Generation != 1 {
				t.Errorf("after the status write: resourceVersion %s (was %s), generation %d", m.ResourceVersion, rv, m.Generation)
			}
			if _, err := s.Delete(ctx, kind, "obj"); err != nil {
				t.Fatal(err)
			}
			if err := s.Get(ctx, "obj", obj); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("after delete: %v, want ErrNotFound", err)
			}
		})
	}
}
