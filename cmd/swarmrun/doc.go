// Command swarmrun is a reconciling controller for Docker Swarm stacks: it deploys recipe
// stacks, upgrades them, prunes what the head dropped, verifies and records results.
//
// main only builds the command tree (package cli and the command packages) and turns errors
// into exit codes; it must hold no logic of its own.
package main
