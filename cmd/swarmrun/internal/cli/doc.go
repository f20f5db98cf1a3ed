// Package cli holds what every swarmrun command shares: the global flags (with the token read
// from a file only its owner may open), the logger (zap in console or JSON form, as
// --log-format says, behind logr), the exit-code contract (0 success, 1 not converged / not
// found / timed out / red, 2 bad input, usage or engine errors), and Printable, which every
// command applies to text from objects before it reaches a terminal.
package cli
