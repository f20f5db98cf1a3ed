package fake

import (
	"context"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ContainerCreate creates a container outside the swarm, which the fake never starts: what
// swarmrun makes one for is to reach volumes through the archive API. Its named volume mounts
// create the volumes they name, labelled from the mount's volume options, as on the engine.
func (f *Fake) ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig, networkingConfig *network.NetworkingConfig, platform *ocispec.Platform, containerName string) (container.CreateResponse, error) {
	if err := f.enter(ctx, "ContainerCreate", config, hostConfig, networkingConfig, platform, containerName); err != nil {
		return container.CreateResponse{}, err
	}
	f.lock()
	defer f.unlock()
	if config == nil || config.Image == "" {
		return container.CreateResponse{}, errInvalid("No command specified")
	}
	if !f.imagePresent(config.Image) {
		return container.CreateResponse{}, errNotFound("No such image: %s", config.Image)
	}
	name := strings.TrimPrefix(containerName, "/")
	if name != "" {
		if c := f.findContainer(name); c != nil && c.name == name {
			return container.CreateResponse{}, errConflict("Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", name, c.id)
		}
	}
	var mounts []mount.Mount
	if hostConfig != nil {
		mounts = clone(hostConfig.Mounts)
	}
	for _, m := range mounts {
		if m.Type == mount.TypeVolume && m.Source != "" {
			f.ensureVolume(m)
		}
	}
	id := f.newHexID()
	if name == "" {
		name = "fake_" + id[:12]
	}
	f.standalone[id] = &containerObj{id: id, name: name, image: config.Image, labels: clone(config.Labels),
		created: f.clock(), standalone: true, mounts: mounts, rootfs: f.newRootfs(config.Image, mounts)}
	return container.CreateResponse{ID: id, Warnings: []string{}}, nil
}

// ContainerRemove removes a container of ContainerCreate. The containers of tasks belong to
// the swarm: the fake removes them with their tasks only.
func (f *Fake) ContainerRemove(ctx context.Context, containerID string, options container.RemoveOptions) error {
	if err := f.enter(ctx, "ContainerRemove", containerID, options); err != nil {
		return err
	}
	f.lock()
	defer f.unlock()
	c := f.findContainer(containerID)
	switch {
	case c == nil:
		return errNotFound("No such container: %s", containerID)
	case !c.standalone:
		return errInvalid("the fake removes only containers made by ContainerCreate, not %s of a task", c.name)
	}
	delete(f.standalone, c.id)
	return nil
}
