// Package invtest creates labelled stacks and loose objects through a deploy.Engine for the
// tests and benchmarks of inventory and of the garbage collector, on the fake or on the real
// swarm. Services are created with zero replicas: the tests are about objects and labels, and
// hundreds of them must cost the engine no memory.
//
// It is for tests and benchmarks only; production code must not import it.
package invtest
