package enginetest

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
)

func archiveCases() []testCase {
	return []testCase{
		{"ArchiveOfTaskContainer", testArchiveTask},
		{"ArchiveOfCreatedContainer", testArchiveCreated},
	}
}

// tarOf makes a tar of files (name → content; a name ending in / is a directory).
func (h *harness) tarOf(files map[string]string) io.Reader {
	h.t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		hdr := &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(files[name]))}
		if strings.HasSuffix(name, "/") {
			hdr.Mode, hdr.Typeflag, hdr.Size = 0o755, tar.TypeDir, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			h.t.Fatal(err)
		}
		if _, err := io.WriteString(tw, files[name]); err != nil {
			h.t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		h.t.Fatal(err)
	}
	return &buf
}

// untar reads a tar into name → content ("/" suffix and no content for directories).
func (h *harness) untar(r io.Reader) map[string]string {
	h.t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			h.t.Fatalf("read archive: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			h.t.Fatalf("read archive: %v", err)
		}
		name := hdr.Name
		if hdr.Typeflag == tar.TypeDir && !strings.HasSuffix(name, "/") {
			name += "/"
		}
		out[name] = string(b)
	}
}

func (h *harness) copyFrom(ctr, p string) (map[string]string, container.PathStat) {
	h.t.Helper()
	rc, st, err := h.e.CopyFromContainer(h.t.Context(), ctr, p)
	if err != nil {
		h.t.Fatalf("copy %s from the container: %v", p, err)
	}
	defer rc.Close()
	return h.untar(rc), st
}

// testArchiveTask: files go into a task container's volume through the archive API and come
// back out named from the copied path's base name; stat describes them; missing paths are not
// found, and a file is no extraction point. The image needs no shell or tar for any of it.
func testArchiveTask(h *harness) {
	spec := h.spec("files", h.env.Image)
	vol := h.name("data")
	spec.TaskTemplate.ContainerSpec.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: "/data",
		VolumeOptions: &mount.VolumeOptions{Labels: h.labels()}}}
	id := h.create(spec)
	h.waitRunning(id, 1)
	cs, err := h.e.ContainerList(h.t.Context(), container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.id="+id))})
	if err != nil || len(cs) != 1 {
		h.t.Fatalf("containers of the service: %v %+v", err, cs)
	}
	ctr := cs[0].ID
	ctx := h.t.Context()

	if err := h.e.CopyToContainer(ctx, ctr, "/data", h.tarOf(map[string]string{"d/": "", "d/f": "hi", "top": "x"}), container.CopyToContainerOptions{}); err != nil {
		h.t.Fatalf("copy into the volume: %v", err)
	}
	st, err := h.e.ContainerStatPath(ctx, ctr, "/data/d/f")
	if err != nil || st.Name != "f" || st.Size != 2 || st.Mode.IsDir() {
		h.t.Errorf("stat /data/d/f = %+v, %v; want the file f of 2 bytes", st, err)
	}
	if st, err := h.e.ContainerStatPath(ctx, ctr, "/data/d"); err != nil || !st.Mode.IsDir() || st.Name != "d" {
		h.t.Errorf("stat /data/d = %+v, %v; want the directory d", st, err)
	}
	if st, err := h.e.ContainerStatPath(ctx, ctr, h.env.ImageFile); err != nil || st.Mode.IsDir() {
		h.t.Errorf("stat of the image's own %s = %+v, %v; want a file", h.env.ImageFile, st, err)
	}
	got, st := h.copyFrom(ctr, "/data")
	want := map[string]string{"data/": "", "data/d/": "", "data/d/f": "hi", "data/top": "x"}
	if !maps.Equal(got, want) || !st.Mode.IsDir() {
		h.t.Errorf("copy of /data = %v (%+v), want %v", got, st, want)
	}
	if got, _ := h.copyFrom(ctr, "/data/d/f"); !maps.Equal(got, map[string]string{"f": "hi"}) {
		h.t.Errorf("copy of /data/d/f = %v, want f alone", got)
	}
	// A second copy replaces a file's content and keeps the rest.
	if err := h.e.CopyToContainer(ctx, ctr, "/data/d", h.tarOf(map[string]string{"f": "again"}), container.CopyToContainerOptions{}); err != nil {
		h.t.Fatalf("copy over a file: %v", err)
	}
	if got, _ := h.copyFrom(ctr, "/data"); got["data/d/f"] != "again" || got["data/top"] != "x" {
		h.t.Errorf("after the second copy: %v", got)
	}

	for _, p := range []string{"/nope", "/data/nope", "/bin/sh"} {
		if _, err := h.e.ContainerStatPath(ctx, ctr, p); !cerrdefs.IsNotFound(err) {
			h.t.Errorf("stat %s: want not found, got %v", p, err)
		}
	}
	if _, _, err := h.e.CopyFromContainer(ctx, ctr, "/data/nope"); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("copy from a missing path: want not found, got %v", err)
	}
	if err := h.e.CopyToContainer(ctx, ctr, "/data/nope", h.tarOf(map[string]string{"x": "1"}), container.CopyToContainerOptions{}); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("copy into a missing directory: want not found, got %v", err)
	}
	if err := h.e.CopyToContainer(ctx, ctr, "/data/top", h.tarOf(map[string]string{"x": "1"}), container.CopyToContainerOptions{}); err == nil {
		h.t.Errorf("copy into a file succeeded")
	}
	if _, err := h.e.ContainerStatPath(ctx, h.name("nope"), "/"); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("stat in a missing container: want not found, got %v", err)
	}
}

// testArchiveCreated: a container that is created and never started makes the named volumes
// it mounts, labelled from the mount's options; its volumes take files through the archive
// API, and another container mounting the same volume sees them. It holds its volumes until
// it is removed.
func testArchiveCreated(h *harness) {
	ctx := h.t.Context()
	vol := h.name("shared")
	labels := h.labels()
	labels["swarmrun.dev/test"] = "created"
	newCtr := func(name string) string {
		h.t.Helper()
		resp, err := h.e.ContainerCreate(ctx, &container.Config{Image: h.env.Image, Labels: map[string]string{"swarmrun.dev/test": h.ns}},
			&container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: "/v",
				VolumeOptions: &mount.VolumeOptions{Labels: labels}}}}, nil, nil, h.name(name))
		if err != nil || resp.ID == "" {
			h.t.Fatalf("create container %s: %v", name, err)
		}
		h.t.Cleanup(func() { _ = h.e.ContainerRemove(ctx, resp.ID, container.RemoveOptions{Force: true}) })
		return resp.ID
	}
	a := newCtr("a")
	vols, err := h.e.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("name", vol))})
	if err != nil || len(vols.Volumes) != 1 || !maps.Equal(vols.Volumes[0].Labels, labels) {
		h.t.Fatalf("volume of the created container: %v %+v, want one labelled %v", err, vols.Volumes, labels)
	}
	cs, err := h.e.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "swarmrun.dev/test="+h.ns))})
	if err != nil || len(cs) != 1 || cs[0].ID != a || cs[0].State != container.StateCreated {
		h.t.Errorf("list of created containers: %v %+v", err, cs)
	}
	running, err := h.e.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "swarmrun.dev/test="+h.ns))})
	if err != nil || len(running) != 0 {
		h.t.Errorf("a created container is listed as running: %v %+v", err, running)
	}
	if err := h.e.CopyToContainer(ctx, a, "/v", h.tarOf(map[string]string{"k": "kept"}), container.CopyToContainerOptions{}); err != nil {
		h.t.Fatalf("copy into a created container's volume: %v", err)
	}
	b := newCtr("b")
	if got, _ := h.copyFrom(b, "/v/k"); got["k"] != "kept" {
		h.t.Errorf("the other container sees %v in the shared volume, want k=kept", got)
	}
	if _, err := h.e.ContainerCreate(ctx, &container.Config{Image: h.env.Image}, nil, nil, nil, h.name("a")); !cerrdefs.IsConflict(err) {
		h.t.Errorf("create with a name in use: want conflict, got %v", err)
	}
	if _, err := h.e.ContainerCreate(ctx, &container.Config{Image: h.env.MissingImage}, nil, nil, nil, h.name("m")); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("create of a missing image: want not found, got %v", err)
	}
	if err := h.e.VolumeRemove(ctx, vol, false); !cerrdefs.IsConflict(err) {
		h.t.Errorf("remove a volume that created containers mount: want conflict, got %v", err)
	}
	for _, id := range []string{a, b} {
		if err := h.e.ContainerRemove(ctx, id, container.RemoveOptions{}); err != nil {
			h.t.Errorf("remove created container: %v", err)
		}
	}
	if err := h.e.ContainerRemove(ctx, a, container.RemoveOptions{}); !cerrdefs.IsNotFound(err) {
		h.t.Errorf("remove a removed container: want not found, got %v", err)
	}
	if err := h.e.VolumeRemove(ctx, vol, false); err != nil {
		h.t.Errorf("remove the volume once no container mounts it: %v", err)
	}
}
