// Command stackbench compares `swarmrun stack deploy` with `docker stack deploy` on the local
// swarm, side by side and alternating in one run: deploy, then upgrade (every image changes),
// stacks of 1, 5 and 20 services. For each upgrade an independent poller (every 50 ms)
// records when every task of the new spec is running and has stayed running for the
// stability window: the engine's own limit, against which swarmrun's detection latency is
// judged. Run it with `make bench`; it prints a table of medians and ratios.
//
// It creates only stacks named bench-<tool>-<n>-<random> and removes them.
package main
