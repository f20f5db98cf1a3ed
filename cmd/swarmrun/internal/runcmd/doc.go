// Package runcmd is `swarmrun run`: one Recipe and TestRun from a file, run to a verdict by a
// controller inside the command (wired by package app, as serve's), with live progress.
//
// It reads, stores, follows and prints; it must not hold logic that the reconcilers own.
package runcmd
