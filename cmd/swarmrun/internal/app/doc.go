// Package app is the one place that wires swarmrun's parts together for `swarmrun serve` and
// `swarmrun run`: the Docker engine connection, the deploy pipeline, the reconcilers, the
// controllers that drive them with their sources (the store, the engine's events, periodic
// listings) and the periodic garbage collection.
//
// The libraries it wires provide parts and never build controllers themselves: reconcile
// and warm provide reconcilers, controller the driver and its sources, deploy/stack the
// pipeline. app must hold no logic of theirs: it chooses parts and connects them.
package app
