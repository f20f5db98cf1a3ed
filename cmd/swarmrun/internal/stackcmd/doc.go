// Package stackcmd implements `swarmrun stack deploy|rm|ps`: docker stack's verbs, but a
// deploy prunes by default, waits for true convergence with live per-service progress, treats
// a rollback as a failure, and exits 0 only when the stack converged.
package stackcmd
