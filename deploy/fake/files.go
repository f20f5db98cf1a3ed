package fake

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
)

// fileTree is the content of a volume or of a container's own filesystem: clean absolute
// paths to files and directories. The root "/" always exists.
type fileTree struct {
	nodes map[string]*fileNode
}

type fileNode struct {
	dir   bool
	mode  os.FileMode
	data  []byte
	mtime time.Time
}

func newFileTree(now time.Time) *fileTree {
	return &fileTree{nodes: map[string]*fileNode{"/": {dir: true, mode: os.ModeDir | 0o755, mtime: now}}}
}

// mkdirAll creates p and its parents as directories; it fails where a file stands in the way.
func (t *fileTree) mkdirAll(p string, mode os.FileMode, now time.Time) error {
	if p == "/" {
		return nil
	}
	if err := t.mkdirAll(path.Dir(p), 0o755, now); err != nil {
		return err
	}
	switch n := t.nodes[p]; {
	case n == nil:
		t.nodes[p] = &fileNode{dir: true, mode: os.ModeDir | mode.Perm(), mtime: now}
	case !n.dir:
		return fmt.Errorf("mkdir %s: not a directory", p)
	}
	return nil
}

// children lists the paths directly under dir p, sorted.
func (t *fileTree) children(p string) []string {
	prefix := strings.TrimSuffix(p, "/") + "/"
	var out []string
	for q := range t.nodes {
		if q != "/" && strings.HasPrefix(q, prefix) && !strings.Contains(q[len(prefix):], "/") {
			out = append(out, q)
		}
	}
	slices.Sort(out)
	return out
}

// removeAll removes p and everything under it.
func (t *fileTree) removeAll(p string) {
	for q := range t.nodes {
		if q == p || strings.HasPrefix(q, strings.TrimSuffix(p, "/")+"/") {
			delete(t.nodes, q)
		}
	}
}

// SetImageFiles gives the containers of image ref these files (path → content) in their own
// filesystem, as an image's layers would: e.g. /bin/sh, for code that looks for a shell before
// it runs a command. Containers created afterwards get them.
func (f *Fake) SetImageFiles(ref string, files map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imageFiles[imageKey(ref)] = clone(files)
}

// newRootfs is the own filesystem of a new container of image: the image's files, and the
// mount points of its mounts.
func (f *Fake) newRootfs(image string, mounts []mount.Mount) *fileTree {
	now := f.clock()
	t := newFileTree(now)
	if i := strings.Index(image, "@"); i > 0 {
		image = image[:i]
	}
	for p, content := range f.imageFiles[imageKey(image)] {
		p = path.Clean("/" + p)
		_ = t.mkdirAll(path.Dir(p), 0o755, now)
		t.nodes[p] = &fileNode{mode: 0o755, data: []byte(content), mtime: now}
	}
	for _, m := range mounts {
		_ = t.mkdirAll(path.Clean(m.Target), 0o755, now)
	}
	return t
}

// resolve finds the tree that holds path p of container c, and p's path inside it: the
// volume mounted deepest above p, or the container's own filesystem.
func (f *Fake) resolve(c *containerObj, p string) (*fileTree, string) {
	p = path.Clean("/" + p)
	best, bestLen := (*fileTree)(nil), -1
	rel := p
	for _, m := range c.mounts {
		if m.Type != mount.TypeVolume || m.Source == "" {
			continue
		}
		target := path.Clean(m.Target)
		if p != target && !strings.HasPrefix(p, target+"/") {
			continue
		}
		v := f.volumes[m.Source]
		if v == nil || len(target) <= bestLen {
			continue
		}
		best, bestLen, rel = v.files, len(target), "/"+strings.TrimPrefix(p[len(target):], "/")
	}
	if best != nil {
		return best, path.Clean(rel)
	}
	return c.rootfs, p
}

// statPath is the engine's stat of path p in container c.
func (f *Fake) statPath(c *containerObj, p string) (container.PathStat, *fileNode, error) {
	tree, rel := f.resolve(c, p)
	n := tree.nodes[rel]
	if n == nil {
		return container.PathStat{}, nil, errNotFound("Could not find the file %s in container %s", p, c.name)
	}
	st := container.PathStat{Name: path.Base(path.Clean("/" + p)), Mode: n.mode, Mtime: n.mtime}
	if !n.dir {
		st.Size = int64(len(n.data))
	}
	return st, n, nil
}

// ContainerStatPath describes a path in a container, through its mounts.
func (f *Fake) ContainerStatPath(ctx context.Context, containerID, p string) (container.PathStat, error) {
	if err := f.enter(ctx, "ContainerStatPath", containerID, p); err != nil {
		return container.PathStat{}, err
	}
	f.lock()
	defer f.unlock()
	c := f.findContainer(containerID)
	if c == nil {
		return container.PathStat{}, errNotFound("No such container: %s", containerID)
	}
	st, _, err := f.statPath(c, p)
	return st, err
}

// CopyFromContainer returns a tar of the path, its entries named from the path's base name
// (data, data/marker, ... for /data), as the engine's archive endpoint does.
func (f *Fake) CopyFromContainer(ctx context.Context, containerID, srcPath string) (io.ReadCloser, container.PathStat, error) {
	if err := f.enter(ctx, "CopyFromContainer", containerID, srcPath); err != nil {
		return nil, container.PathStat{}, err
	}
	f.lock()
	defer f.unlock()
	c := f.findContainer(containerID)
	if c == nil {
		return nil, container.PathStat{}, errNotFound("No such container: %s", containerID)
	}
	st, _, err := f.statPath(c, srcPath)
	if err != nil {
		return nil, st, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := f.writeTar(tw, c, path.Clean("/"+srcPath), st.Name); err != nil {
		return nil, st, errSystem("archive %s: %v", srcPath, err)
	}
	if err := tw.Close(); err != nil {
		return nil, st, errSystem("archive %s: %v", srcPath, err)
	}
	return io.NopCloser(&buf), st, nil
}

// writeTar writes p (named name in the archive) and, for a directory, everything under it,
// following the container's mounts on the way down.
func (f *Fake) writeTar(tw *tar.Writer, c *containerObj, p, name string) error {
	tree, rel := f.resolve(c, p)
	n := tree.nodes[rel]
	if n == nil {
		return nil
	}
	hdr := &tar.Header{Name: name, Mode: int64(n.mode.Perm()), ModTime: n.mtime, Format: tar.FormatPAX}
	if n.dir {
		hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		names := map[string]bool{}
		for _, q := range tree.children(rel) {
			names[path.Base(q)] = true
		}
		// Mount points below p live in the container's own tree, not in the one that holds p.
		for _, m := range c.mounts {
			if t := path.Clean(m.Target); path.Dir(t) == p {
				names[path.Base(t)] = true
			}
		}
		for _, child := range slices.Sorted(maps.Keys(names)) {
			if err := f.writeTar(tw, c, path.Join(p, child), name+"/"+child); err != nil {
				return err
			}
		}
		return nil
	}
	hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(n.data))
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(n.data)
	return err
}

// CopyToContainer extracts a tar into the directory dstPath of a container: directories are
// made as needed, files replace files. A missing dstPath is not found, as on the engine.
func (f *Fake) CopyToContainer(ctx context.Context, containerID, dstPath string, content io.Reader, options container.CopyToContainerOptions) error {
	if err := f.enter(ctx, "CopyToContainer", containerID, dstPath, options); err != nil {
		return err
	}
	// Read the archive before taking the lock: the caller may be producing it as we read.
	type entry struct {
		hdr  *tar.Header
		data []byte
	}
	var entries []entry
	tr := tar.NewReader(content)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return errInvalid("read archive: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return errInvalid("read archive: %v", err)
		}
		entries = append(entries, entry{hdr: hdr, data: data})
	}
	f.lock()
	defer f.unlock()
	c := f.findContainer(containerID)
	if c == nil {
		return errNotFound("No such container: %s", containerID)
	}
	_, dst, err := f.statPath(c, dstPath)
	if err != nil {
		return err
	}
	if !dst.dir {
		return errInvalid("extraction point is not a directory")
	}
	now := f.clock()
	base := path.Clean("/" + dstPath)
	for _, e := range entries {
		name := path.Clean(strings.TrimPrefix(e.hdr.Name, "/"))
		if name == "." {
			continue
		}
		if name == ".." || strings.HasPrefix(name, "../") {
			return errInvalid("archive entry %q leaves the extraction point", e.hdr.Name)
		}
		p := path.Join(base, name)
		tree, rel := f.resolve(c, p)
		if err := tree.mkdirAll(path.Dir(rel), 0o755, now); err != nil {
			return errInvalid("extract %s: %v", p, err)
		}
		old := tree.nodes[rel]
		switch e.hdr.Typeflag {
		case tar.TypeDir:
			if old != nil && !old.dir {
				return errInvalid("extract %s: cannot overwrite non-directory with directory", p)
			}
			if old == nil {
				tree.nodes[rel] = &fileNode{dir: true, mode: os.ModeDir | os.FileMode(e.hdr.Mode).Perm(), mtime: e.hdr.ModTime}
			}
		case tar.TypeReg:
			if old != nil && old.dir {
				if !options.AllowOverwriteDirWithFile {
					return errInvalid("extract %s: cannot overwrite directory with non-directory", p)
				}
				tree.removeAll(rel)
			}
			tree.nodes[rel] = &fileNode{mode: os.FileMode(e.hdr.Mode).Perm(), data: e.data, mtime: e.hdr.ModTime}
		default:
			return errInvalid("extract %s: unsupported entry type %q in the fake", p, e.hdr.Typeflag)
		}
	}
	return nil
}
