// Package v1alpha1 holds swarmrun's object types: Recipe, TestRun and Repository with their
// metadata, conditions, condition reasons, label keys and defaults, and the helpers every
// layer shares to handle them by kind: New, KindFor, ResourceFor and DeepCopy. Validation lives in package
// spec, which reports problems with field paths and lines.
//
// It imports only the standard library and apimachinery's condition and duration types, so
// that every other package (the store, the spec reader, the reconcilers, the CLI) can share
// these shapes without pulling in Docker or storage code.
package v1alpha1
