// Package results writes the artifacts of a finished TestRun under
// <data-dir>/runs/<testrun>/: results.json (the base plan, head, deploys with images and
// digests, pruned services, tiers and checks, level, timings), junit.xml (one suite per tier,
// for CI systems) and summary.md (for people).
//
// Everything written passes through a mask.Masker first: secrets never reach an artifact.
// results renders what the TestRun's status says; it decides nothing.
package results
