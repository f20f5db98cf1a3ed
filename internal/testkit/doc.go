// Package testkit holds what swarmrun's tests share: Eventually, the one way a test waits
// for a condition (polling with a deadline, never a bare sleep), and the one test recipe, a
// git repository of compose files built for a test (Repo, Standard), and Sample, which reads
// a metric from a Prometheus registry.
//
// It is imported by tests only. It must not import the Docker SDK or any swarmrun package
// but api/v1alpha1, so that every package's tests can use it.
package testkit
