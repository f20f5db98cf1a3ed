package fake

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
)

// volObj is a local volume and its files.
type volObj struct {
	v     volume.Volume
	files *fileTree
}

// AddVolume creates a local volume, as `docker volume create` would (the Engine interface
// has no VolumeCreate: volumes appear when tasks mount them).
func (f *Fake) AddVolume(name string, labels map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ensureVolume(mount.Mount{Type: mount.TypeVolume, Source: name, VolumeOptions: &mount.VolumeOptions{Labels: labels}})
}

// ensureVolume creates the named volume of a mount if it does not exist, labelled from the
// mount's volume options as the engine does (that is how stack volumes get the stack label).
func (f *Fake) ensureVolume(m mount.Mount) {
	if _, ok := f.volumes[m.Source]; ok {
		return
	}
	v := volume.Volume{
		Name: m.Source, Driver: "local", Scope: "local",
		CreatedAt:  f.clock().UTC().Format(time.RFC3339),
		Mountpoint: "/var/lib/docker/volumes/" + m.Source + "/_data",
		Labels:     map[string]string{},
	}
	if o := m.VolumeOptions; o != nil {
		for k, val := range o.Labels {
			v.Labels[k] = val
		}
		if o.DriverConfig != nil {
			if o.DriverConfig.Name != "" {
				v.Driver = o.DriverConfig.Name
			}
			v.Options = clone(o.DriverConfig.Options)
		}
	}
	f.volumes[m.Source] = &volObj{v: v, files: newFileTree(f.clock())}
	f.bump()
	f.emit("volume", "create", m.Source, map[string]string{"driver": v.Driver}, "local")
}

// VolumeList lists volumes: name by substring, label by key or key=value, dangling.
func (f *Fake) VolumeList(ctx context.Context, options volume.ListOptions) (volume.ListResponse, error) {
	if err := f.enter(ctx, "VolumeList", options); err != nil {
		return volume.ListResponse{}, err
	}
	if err := validateFilters(options.Filters, "dangling", "driver", "label", "name"); err != nil {
		return volume.ListResponse{}, err
	}
	f.lock()
	defer f.unlock()
	out := volume.ListResponse{Volumes: []*volume.Volume{}}
	names := make([]string, 0, len(f.volumes))
	for n := range f.volumes {
		names = append(names, n)
	}
	sort.Strings(names)
	a := options.Filters
	for _, n := range names {
		v := f.volumes[n].v
		if (a.Contains("name") && !matchSubstring(a.Get("name"), v.Name)) || !a.MatchKVList("label", v.Labels) ||
			(a.Contains("driver") && !a.ExactMatch("driver", v.Driver)) {
			continue
		}
		if a.Contains("dangling") {
			dangling := len(f.volumeUsers(v.Name)) == 0
			if !a.ExactMatch("dangling", map[bool]string{true: "true", false: "false"}[dangling]) &&
				!a.ExactMatch("dangling", map[bool]string{true: "1", false: "0"}[dangling]) {
				continue
			}
		}
		c := clone(v)
		out.Volumes = append(out.Volumes, &c)
	}
	return out, nil
}

// VolumeRemove removes a volume; one that a container (running or stopped) still mounts is a
// conflict, as on the engine.
func (f *Fake) VolumeRemove(ctx context.Context, volumeID string, force bool) error {
	if err := f.enter(ctx, "VolumeRemove", volumeID, force); err != nil {
		return err
	}
	f.lock()
	defer f.unlock()
	v, ok := f.volumes[volumeID]
	if !ok {
		if force {
			return nil
		}
		return errNotFound("get %s: no such volume", volumeID)
	}
	if users := f.volumeUsers(volumeID); len(users) > 0 {
		return errConflict("remove %s: volume is in use - [%s]", volumeID, strings.Join(users, ", "))
	}
	delete(f.volumes, volumeID)
	f.bump()
	f.emit("volume", "destroy", volumeID, map[string]string{"driver": v.v.Driver}, "local")
	return nil
}

// volumeUsers lists the containers that mount the volume.
func (f *Fake) volumeUsers(name string) []string {
	var ids []string
	f.eachTask(func(t *task) {
		if t.container == nil {
			return
		}
		for _, m := range t.t.Spec.ContainerSpec.Mounts {
			if m.Type == mount.TypeVolume && m.Source == name {
				ids = append(ids, t.container.id)
				return
			}
		}
	})
	for _, id := range sortedKeys(f.standalone) {
		for _, m := range f.standalone[id].mounts {
			if m.Type == mount.TypeVolume && m.Source == name {
				ids = append(ids, id)
				break
			}
		}
	}
	return ids
}
