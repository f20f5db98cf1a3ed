package backup

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
)

// VolumeCopy is one volume's content to copy into another.
type VolumeCopy struct {
	// From is the volume to read, which must exist; To the volume to fill, made with Labels
	// when it does not exist (as the engine makes a stack's volume, labelled from the
	// compose file's volume options).
	From, To string
	Labels   map[string]string
}

// CopyRequest copies volumes through one helper container.
type CopyRequest struct {
	Copies []VolumeCopy
	// Image is a local image for the helper container, which is created and never started
	// (any image will do: nothing in it runs).
	Image string
	// Name and Labels name and label the helper container; a leftover of that name (a copy
	// cut short) is removed first.
	Name   string
	Labels map[string]string
}

// Copied is what one volume copy moved.
type Copied struct {
	From, To string
	Entries  int
	Bytes    int64
}

// copyRoot is where the helper container mounts the volumes: from/<i> read-only, to/<i>.
const copyRoot = "/swarmrun-copy"

// CopyVolumes copies the content of each From volume into its To volume, through a helper
// container that mounts them all and is never started: the engine's archive API reads the
// one and writes the other, so neither the volumes' images nor this host's file system take
// part, and a From volume that a running stack uses is read as it is (like backupbot, which
// copies live volumes). Files already in a To volume are overwritten, others kept. The helper
// is removed before CopyVolumes returns.
func (r *Runner) CopyVolumes(ctx context.Context, req CopyRequest) ([]Copied, error) {
	for _, c := range req.Copies {
		if err := r.volumeExists(ctx, c.From); err != nil {
			return nil, err
		}
	}
	if err := r.RemoveHelper(ctx, req.Name); err != nil {
		return nil, err
	}
	var mounts []mount.Mount
	for i, c := range req.Copies {
		mounts = append(mounts,
			mount.Mount{Type: mount.TypeVolume, Source: c.From, Target: copyRoot + "/from/" + strconv.Itoa(i), ReadOnly: true},
			mount.Mount{Type: mount.TypeVolume, Source: c.To, Target: copyRoot + "/to/" + strconv.Itoa(i),
				VolumeOptions: &mount.VolumeOptions{Labels: c.Labels}})
	}
	helper, err := r.engine.ContainerCreate(ctx, &container.Config{Image: req.Image, Labels: req.Labels, Cmd: []string{"copy-helper-never-started"}},
		&container.HostConfig{Mounts: mounts}, nil, nil, req.Name)
	if err != nil {
		return nil, fmt.Errorf("create the copy container %s: %w", req.Name, err)
	}
	defer func() {
		// The copy's ctx may be spent; the helper must go all the same, bounded on its own.
		rm, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = r.engine.ContainerRemove(rm, helper.ID, container.RemoveOptions{Force: true})
	}()
	var out []Copied
	for i, c := range req.Copies {
		n, size, err := r.copyVolume(ctx, helper.ID, strconv.Itoa(i))
		if err != nil {
			return out, fmt.Errorf("copy volume %s into %s: %w", c.From, c.To, err)
		}
		out = append(out, Copied{From: c.From, To: c.To, Entries: n, Bytes: size})
	}
	if err := r.engine.ContainerRemove(ctx, helper.ID, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
		return out, fmt.Errorf("remove the copy container %s: %w", req.Name, err)
	}
	return out, nil
}

// copyVolume copies from/<i> to to/<i> inside the helper.
func (r *Runner) copyVolume(ctx context.Context, helper, i string) (int, int64, error) {
	rc, _, err := r.engine.CopyFromContainer(ctx, helper, copyRoot+"/from/"+i)
	if err != nil {
		return 0, 0, err
	}
	defer rc.Close()
	counter := &countingReader{r: rc}
	pr, pw := io.Pipe()
	counted := make(chan int, 1)
	go func() {
		tw := tar.NewWriter(pw)
		n, err := retar(tar.NewReader(counter), tw, i, ".", nil, func(name string) bool { return name != "." })
		if err == nil {
			err = tw.Close()
		}
		counted <- n
		pw.CloseWithError(err)
	}()
	err = r.engine.CopyToContainer(ctx, helper, copyRoot+"/to/"+i, pr, container.CopyToContainerOptions{})
	pr.CloseWithError(io.ErrClosedPipe)
	n := <-counted
	return n, counter.n, err
}

// volumeExists fails unless the volume exists: mounting a missing volume would make it, and
// copy nothing from it.
func (r *Runner) volumeExists(ctx context.Context, name string) error {
	vols, err := r.engine.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("name", name))})
	if err != nil {
		return fmt.Errorf("look for volume %s: %w", name, err)
	}
	for _, v := range vols.Volumes {
		if v.Name == name {
			return nil
		}
	}
	return fmt.Errorf("volume %s does not exist", name)
}

// RemoveHelper removes the helper container of this name that a copy cut short (a crash, a
// kill) left behind: it would hold the volumes it mounts, which a stack's removal then could
// not remove. A helper that is not there is no error.
func (r *Runner) RemoveHelper(ctx context.Context, name string) error {
	cs, err := r.engine.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("name", name))})
	if err != nil {
		return fmt.Errorf("look for a leftover copy container %s: %w", name, err)
	}
	for _, c := range cs {
		for _, n := range c.Names {
			if n == "/"+name {
				if err := r.engine.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
					return fmt.Errorf("remove the leftover copy container %s: %w", name, err)
				}
			}
		}
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
