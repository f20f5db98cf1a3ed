// Package swarmtest is the test harness for tests that run against the real Docker Swarm.
//
// The tests that use it live in files behind the build tag integration (`//go:build
// integration`, files named *_integration_test.go), so that `go test ./...` never touches a
// swarm; `make test` passes -tags integration. A test calls RequireSwarm first, which fails
// the test, never skips it, when no swarm manager answers: asking for the integration tests
// is asking for a swarm. Stack names come from StackName, which makes them
// unique per test and registers a cleanup that removes exactly that stack's objects (services,
// then networks, secrets, configs and volumes carrying its namespace label), nothing else.
//
// It is for tests only; production code must not import it.
package swarmtest
