// Package servicemode names a swarm service's mode, one way for every package of the deploy
// tree: the names the engine's "mode" service filter takes, which swarmrun also shows.
// It decides nothing about a service.
package servicemode
