// Package inventory is the one place that lists everything swarmrun might own in a swarm and
// removes single objects or whole stacks of it.
//
// List makes exactly one listing per object type (services, networks, secrets, configs,
// volumes), groups what it finds by the stack namespace label, keeps every object's labels
// and records which services use each network, secret, config and volume. The result is plain
// Go data with no Docker SDK type in it, so that policy packages (warm) can decide over it
// without importing the SDK.
//
// inventory decides nothing: which object is stale, and whether swarmrun owns it, is the
// caller's policy. Stack removal is deploy's (Deployer.Remove, in docker stack rm's order);
// inventory only removes single loose objects by ID.
package inventory
