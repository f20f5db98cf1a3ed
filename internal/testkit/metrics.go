package testkit

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Sample reads the family name from g and adds up its series whose labels include labels: a
// counter's or a gauge's value, a histogram's sample count (and its sum in sum). ok says
// whether any series matched.
func Sample(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) (value, sum float64, ok bool) {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			ok = true
			switch {
			case m.Counter != nil:
				value += m.Counter.GetValue()
			case m.Gauge != nil:
				value += m.Gauge.GetValue()
			case m.Histogram != nil:
				value += float64(m.Histogram.GetSampleCount())
				sum += m.Histogram.GetSampleSum()
			}
		}
	}
	return value, sum, ok
}
