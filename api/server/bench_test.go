package server_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// BenchmarkApply measures a server-side apply that changes the spec, through the client over
// the unix socket: encode, HTTP, validate, one synced bbolt commit, answer. It reports the
// median latency as p50-ms.
func BenchmarkApply(b *testing.B) {
	_, sock := serve(b, server.Options{})
	c := newClient(b, sock, "")
	var lat []time.Duration
	i := 0
	for b.Loop() {
		tr := testRun("bench", "r")
		tr.Spec.Head = strconv.Itoa(i)
		i++
		start := time.Now()
		if _, err := c.Apply(b.Context(), tr); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkList1000 lists 1,000 TestRuns through the API (goal: under 50 ms).
func BenchmarkList1000(b *testing.B) {
	st, sock := serve(b, server.Options{})
	for i := range 1000 {
		tr := testRun(fmt.Sprintf("run-%04d", i), "discourse")
		tr.Default()
		tr.Spec.Head = "ae5a8180"
		tr.Labels = map[string]string{"pull-request": strconv.Itoa(i)}
		if err := st.Create(b.Context(), tr); err != nil {
			b.Fatal(err)
		}
		tr.Status.Stack = tr.Name + "-8f3a1c"
		tr.Status.Level = 3
		tr.Status.Base = &v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.7.0+3.3.1", Reason: "last green"}
		tr.Status.Conditions = []v1alpha1.Condition{{Type: v1alpha1.ConditionSucceeded, Status: v1alpha1.ConditionTrue, Reason: "Succeeded", Message: "all tiers passed"}}
		if err := st.UpdateStatus(b.Context(), tr); err != nil {
			b.Fatal(err)
		}
	}
	c := newClient(b, sock, "")
	for b.Loop() {
		objs, _, err := c.List(b.Context(), v1alpha1.KindTestRun)
		if err != nil || len(objs) != 1000 {
			b.Fatalf("list: %d objects, %v", len(objs), err)
		}
	}
}

// BenchmarkWatch10000 writes 10,000 status updates and receives every one of them, in order,
// through a watch over the API.
func BenchmarkWatch10000(b *testing.B) {
	const updates = 10000
	st, sock := serve(b, server.Options{})
	c := newClient(b, sock, "")
	tr := testRun("watched", "r")
	if err := st.Create(b.Context(), tr); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ch, err := c.Watch(b.Context(), v1alpha1.KindTestRun, st.ResourceVersion())
		if err != nil {
			b.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() {
			for i := range updates {
				tr.Status.Level = i % 6
				tr.Status.Stack = strconv.Itoa(i)
				if err := st.UpdateStatus(b.Context(), tr); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
		var prev uint64
		for i := range updates {
			ev, ok := <-ch
			if !ok || ev.Type != store.Modified {
				b.Fatalf("update %d: event %v (open %t)", i, ev.Type, ok)
			}
			got := ev.Object.(*v1alpha1.TestRun)
			rv, _ := strconv.ParseUint(got.ResourceVersion, 10, 64)
			if got.Status.Stack != strconv.Itoa(i) || rv <= prev {
				b.Fatalf("update %d out of order: stack %s rv %d after %d", i, got.Status.Stack, rv, prev)
			}
			prev = rv
		}
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*updates)/1000, "µs/update")
}
