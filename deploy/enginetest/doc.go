// Package enginetest is the contract test suite of deploy.Engine: the behaviours of the Docker
// engine that swarmrun relies on, written once and run against every implementation.
//
// deploy/fake runs it always (deploy/fake/fake_test.go); real_test.go here runs it against
// the real single-node swarm (skipped without one, failing in CI without one). When the fake
// and the engine disagree, this suite says so, so the fake cannot drift.
//
// It must not know which implementation it tests: what differs between them (which images are
// present, how a task is made to crash, how long to wait) comes in through Env.
package enginetest
