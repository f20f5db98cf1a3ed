// Package events turns the Docker engine's event stream into wake-up calls for swarmrun's
// controllers: each service or container event is reported as the labels of the swarm object
// it is about, for a controller.EventMapper to map to the requests it should wake.
//
// Service events carry only the service's name and ID, and a task container carries its
// container labels rather than the service's, so the labels of a service are read once
// (ServiceInspect) and remembered by service ID. Events only wake: the reconcilers decide by
// reading state, so a lost or duplicated event costs nothing but latency, and the resync
// covers what a broken stream missed. When the stream breaks, Watch subscribes again after an
// exponential backoff.
//
// events must not decide anything from an event beyond whom to wake.
package events
