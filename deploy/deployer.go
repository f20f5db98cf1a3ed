package deploy

import (
	"time"
)

// Labels that deploy reads or writes on swarm objects.
const (
	// LabelNamespace is the only thing that makes an object part of a stack: docker stack
	// deploy and swarmrun both put it on every object of the stack.
	LabelNamespace = "com.docker.stack.namespace"
	// LabelImage keeps a service's image as written in compose, before any digest pinning.
	LabelImage = "com.docker.stack.image"
	// LabelSpecDigest is the digest of the service spec swarmrun last applied; see Apply for
	// how it decides that a service is unchanged.
	LabelSpecDigest = "swarmrun.dev/spec-digest"
	// LabelContentDigest is a salted digest of the payload of a secret or config swarmrun
	// created. Secret payloads cannot be read back from the engine, so this label is the only
	// way to tell that the same name now carries different content.
	LabelContentDigest = "swarmrun.dev/content-digest"
)

// Defaults of Options.
const (
	DefaultParallelism  = 8
	DefaultPollInterval = 200 * time.Millisecond
	// DefaultRegistryTimeout bounds the registry question asked for an image that is not
	// present locally, so that an unreachable registry fails fast instead of hanging.
	DefaultRegistryTimeout = 5 * time.Second
)

// Options configure a Deployer. Zero values take the defaults.
type Options struct {
	// Engine is the Docker engine (a *client.Client, or deploy/fake in tests). Required.
	Engine Engine
	// Parallelism bounds the service create/update calls in flight (default 8).
	Parallelism int
	// PollInterval is how often Remove re-lists tasks while it waits for them to go.
	PollInterval time.Duration
	// RegistryTimeout bounds the registry lookup of one image that is not present locally.
	RegistryTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Deployer applies, prunes, removes and observes stacks through an Engine. It holds no state
// between calls: every call re-reads the swarm. Operations on one stack must be serialised
// by the caller; different stacks may be handled concurrently.
type Deployer struct {
	engine          Engine
	parallelism     int
	pollInterval    time.Duration
	registryTimeout time.Duration
	now             func() time.Time
}

// New returns a Deployer with the defaults filled in.
func New(opts Options) *Deployer {
	d := &Deployer{
		engine:          opts.Engine,
		parallelism:     opts.Parallelism,
		pollInterval:    opts.PollInterval,
		registryTimeout: opts.RegistryTimeout,
		now:             opts.Now,
	}
	if d.parallelism <= 0 {
		d.parallelism = DefaultParallelism
	}
	if d.pollInterval <= 0 {
		d.pollInterval = DefaultPollInterval
	}
	if d.registryTimeout <= 0 {
		d.registryTimeout = DefaultRegistryTimeout
	}
	if d.now == nil {
		d.now = time.Now
	}
	return d
}
