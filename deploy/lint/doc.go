// Package lint checks a rendered recipe stack against a small set of recipe rules, each with a
// stable id, and reports every finding. Lint is a rung of a run's level, never a gate: a
// finding caps the level but does not stop the run. lint reads a render; it talks to no
// engine.
package lint
