package store_test

import (
	"fmt"
	"testing"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// BenchmarkList1000 lists 1,000 TestRuns in-process, without the API.
func BenchmarkList1000(b *testing.B) {
	s, err := store.Open(b.TempDir()+"/store.db", store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 1000 {
		tr := testRun(fmt.Sprintf("run-%04d", i), "discourse")
		tr.Default()
		tr.Status.Level = 3
		tr.Status.Conditions = []v1alpha1.Condition{{Type: v1alpha1.ConditionSucceeded, Status: v1alpha1.ConditionTrue, Reason: "Succeeded", Message: "all tiers passed"}}
		if err := s.Create(b.Context(), tr); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		objs, _, err := s.List(b.Context(), v1alpha1.KindTestRun)
		if err != nil || len(objs) != 1000 {
			b.Fatalf("list: %d, %v", len(objs), err)
		}
	}
}

// BenchmarkUpdateStatus is one synced status write.
func BenchmarkUpdateStatus(b *testing.B) {
	s, err := store.Open(b.TempDir()+"/store.db", store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tr := testRun("a", "r")
	if err := s.Create(b.Context(), tr); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		tr.Status.Level = i
		if err := s.UpdateStatus(b.Context(), tr); err != nil {
			b.Fatal(err)
		}
	}
}
