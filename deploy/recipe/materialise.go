package recipe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/swarmrun/swarmrun/deploy/confine"
)

// Defaults of the limits of one materialised checkout (Options.MaxBytes, Options.MaxFiles).
const (
	DefaultMaxBytes = 256 << 20
	DefaultMaxFiles = 20000
)

// streamThreshold is the blob size above which the object store streams a blob instead of
// holding it in memory.
const streamThreshold = 1 << 20

// maxLinkTarget bounds a symlink's target, as PATH_MAX does.
const maxLinkTarget = 4096

// Materialise writes the tree of commit (a full commit id) into dir, which must not exist or
// be empty: each deploy of each run gets a directory of its own that nothing else writes to,
// so no file of one deploy can reach another. The source itself is not touched: no worktree
// is checked out, no ref moves.
//
// The tree is untrusted. It is checked whole, from its metadata, before anything is written,
// and refused (ErrUnsafe) when an entry has an invalid name (empty, ".", "..", ".git", or
// holding "/"), a tree lists a name twice (two files, or a file, symlink or directory under
// one name, which would let a file be written through a symlink), a symlink resolves outside
// the checkout (its target absolute, or leaving through ".." after following the tree's own
// symlinks, as a chain of links each harmless on its own does), or the tree holds more than
// Options.MaxFiles entries or Options.MaxBytes of files (ErrTooLarge). Then files are written
// through an os.Root of dir, each created anew (O_EXCL, so never through an existing name),
// blobs streamed from the store, and symlinks last, so that no write follows one.
func (s *Source) Materialise(ctx context.Context, commit, dir string) error {
	if len(commit) != 40 || !isLowerHex(commit) {
		return fmt.Errorf("materialise %q: want a full commit id", commit)
	}
	err := s.read(ctx, func(repo *git.Repository) error {
		repo, err := streaming(repo)
		if err != nil {
			return err
		}
		c, err := repo.CommitObject(plumbing.NewHash(commit))
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return ErrCommitNotFound
		}
		if err != nil {
			return err
		}
		tree, err := c.Tree()
		if err != nil {
			return err
		}
		p := s.newPlan()
		if err := p.addTree(ctx, repo, tree, ""); err != nil {
			return err
		}
		return p.write(ctx, dir, func(e entry) (io.ReadCloser, error) {
			obj, err := repo.Storer.EncodedObject(plumbing.BlobObject, e.hash)
			if err != nil {
				return nil, err
			}
			return obj.Reader()
		})
	})
	if err != nil {
		return fmt.Errorf("materialise %s of %s: %w", shortHash(commit), s.URL(), err)
	}
	return nil
}

// streaming reopens a repository's store so that large blobs are streamed from disk rather
// than read whole into memory (go-git's default).
func streaming(repo *git.Repository) (*git.Repository, error) {
	fss, ok := repo.Storer.(*filesystem.Storage)
	if !ok {
		return repo, nil
	}
	st := filesystem.NewStorageWithOptions(fss.Filesystem(), cache.NewObjectLRUDefault(),
		filesystem.Options{LargeObjectThreshold: streamThreshold})
	return git.Open(st, nil)
}

// MaterialiseWorkingTree copies a local source's working tree, as it is on disk with its
// uncommitted changes, into dir (which must not exist or be empty). .git and the files
// .gitignore excludes are left out. It stands for the checked-out HEAD only: use it when the
// run's head resolves to Resolve(ctx, "HEAD") and Dirty reports changes, and label the
// deploy with ChaosVersion(head, true). The copy follows Materialise's rules: the same
// limits, symlinks only when they resolve inside, checked before anything is written.
func (s *Source) MaterialiseWorkingTree(ctx context.Context, dir string) error {
	if !s.local {
		return fmt.Errorf("materialise working tree of %s: not a local source", s.URL())
	}
	if err := s.copyWorkingTree(ctx, dir); err != nil {
		return fmt.Errorf("materialise working tree of %s: %w", s.URL(), err)
	}
	return nil
}

func (s *Source) copyWorkingTree(ctx context.Context, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(s.path, abs); err == nil && filepath.IsLocal(rel) {
		return fmt.Errorf("target %s is inside the source", dir)
	}
	patterns, err := gitignore.ReadPatterns(osfs.New(s.path), nil)
	if err != nil {
		return fmt.Errorf("read .gitignore: %w", err)
	}
	p := s.newPlan()
	if err := p.addWorkingTree(ctx, s.path, gitignore.NewMatcher(patterns)); err != nil {
		return err
	}
	src, err := os.OpenRoot(s.path)
	if err != nil {
		return err
	}
	defer src.Close()
	return p.write(ctx, abs, func(e entry) (io.ReadCloser, error) {
		return src.Open(filepath.FromSlash(e.name))
	})
}

type entryKind int

const (
	kindDir entryKind = iota
	kindFile
	kindExec
	kindLink
)

// entry is one thing to write: a directory, a file or a symlink.
type entry struct {
	name   string // slash-separated, relative to the checkout
	kind   entryKind
	size   int64
	target string        // of a symlink
	hash   plumbing.Hash // of a file's blob, in a commit's tree
}

// plan is a checked list of what to write, parents before children.
type plan struct {
	entries  []entry
	links    map[string]string
	sizes    map[plumbing.Hash]int64 // of blobs already looked up: a tree may repeat one
	bytes    int64
	maxBytes int64
	maxFiles int
}

func (s *Source) newPlan() *plan {
	return &plan{links: map[string]string{}, sizes: map[plumbing.Hash]int64{}, maxBytes: s.maxBytes, maxFiles: s.maxFiles}
}

// add counts e against the limits.
func (p *plan) add(e entry) error {
	if len(p.entries) >= p.maxFiles {
		return confine.TooLarge("the tree holds more than %d files and directories (the limit); stopped at %q", p.maxFiles, e.name)
	}
	p.bytes += e.size
	if p.bytes > p.maxBytes {
		return confine.TooLarge("the tree holds more than %d bytes of files (the limit); stopped at %q (%d bytes)", p.maxBytes, e.name, e.size)
	}
	p.entries = append(p.entries, e)
	if e.kind == kindLink {
		p.links[e.name] = e.target
	}
	return nil
}

// addTree walks a commit's tree, checking each entry from its metadata: no blob is read but
// symlink targets.
func (p *plan) addTree(ctx context.Context, repo *git.Repository, tree *object.Tree, prefix string) error {
	seen := make(map[string]filemode.FileMode, len(tree.Entries))
	for _, te := range tree.Entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := path.Join(prefix, te.Name)
		if !validEntryName(te.Name) {
			return confine.Unsafe("tree entry %q has an invalid name", prefix+"/"+te.Name)
		}
		if first, dup := seen[te.Name]; dup {
			return duplicateEntry(name, first, te.Mode)
		}
		seen[te.Name] = te.Mode
		var err error
		switch te.Mode {
		case filemode.Dir:
			err = p.add(entry{name: name, kind: kindDir})
			if err == nil {
				var sub *object.Tree
				if sub, err = object.GetTree(repo.Storer, te.Hash); err == nil {
					err = p.addTree(ctx, repo, sub, name)
				}
			}
		case filemode.Regular, filemode.Deprecated, filemode.Executable:
			var size int64
			if size, err = p.blobSize(repo, te.Hash); err == nil {
				kind := kindFile
				if te.Mode == filemode.Executable {
					kind = kindExec
				}
				err = p.add(entry{name: name, kind: kind, size: size, hash: te.Hash})
			}
		case filemode.Symlink:
			var target string
			if target, err = linkTarget(repo, name, te.Hash); err == nil {
				err = p.addLink(name, target)
			}
		default:
			// A submodule's commit has no content in this repository.
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// blobSize is the size a blob's header says, looked up once per blob: the store streams large
// blobs, so that this reads no content of theirs.
func (p *plan) blobSize(repo *git.Repository, h plumbing.Hash) (int64, error) {
	if size, ok := p.sizes[h]; ok {
		return size, nil
	}
	obj, err := repo.Storer.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return 0, err
	}
	p.sizes[h] = obj.Size()
	return obj.Size(), nil
}

// validEntryName refuses names that git itself refuses in a tree and that would not write
// one entry where it says (".", "..", a "/" in it) or would plant git metadata.
func validEntryName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.EqualFold(name, git.GitDirName) &&
		!strings.ContainsAny(name, "/\x00")
}

// duplicateEntry refuses a tree that lists name twice.
func duplicateEntry(name string, a, b filemode.FileMode) error {
	if (a == filemode.Symlink && b == filemode.Dir) || (a == filemode.Dir && b == filemode.Symlink) {
		return confine.Unsafe("the tree lists %q both as a symlink and as a directory: its files would be written through the link", name)
	}
	return confine.Unsafe("the tree lists %q twice (as %s and as %s)", name, kindName(a), kindName(b))
}

func kindName(m filemode.FileMode) string {
	switch m {
	case filemode.Symlink:
		return "a symlink"
	case filemode.Dir:
		return "a directory"
	}
	return "a file"
}

// linkTarget reads a symlink's target, a blob no longer than a path may be.
func linkTarget(repo *git.Repository, name string, h plumbing.Hash) (string, error) {
	obj, err := repo.Storer.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return "", err
	}
	if obj.Size() > maxLinkTarget {
		return "", confine.Unsafe("symlink %q has a target of %d bytes", name, obj.Size())
	}
	r, err := obj.Reader()
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxLinkTarget+1))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// addLink adds a symlink after checking that its target, followed through the symlinks the
// checkout holds so far and will hold, stays inside: links are checked again once all are
// known (checkLinks).
func (p *plan) addLink(name, target string) error {
	if target == "" || strings.ContainsRune(target, 0) || len(target) > maxLinkTarget {
		return confine.Unsafe("symlink %q has an invalid target", name)
	}
	return p.add(entry{name: name, kind: kindLink, target: target})
}

// checkLinks refuses a plan with a symlink that resolves outside the checkout.
func (p *plan) checkLinks() error {
	for _, e := range p.entries {
		if e.kind != kindLink {
			continue
		}
		if err := resolveInside(p.links, e.name); err != nil {
			return confine.Unsafe("symlink %q -> %q %w", e.name, e.target, err)
		}
	}
	return nil
}

// maxHops bounds the symlinks followed while resolving one, as the kernel's ELOOP does.
const maxHops = 40

// resolveInside follows the symlink name through links (the checkout's symlinks by path) the
// way the kernel would resolve it on disk, component by component, and fails when the path
// leaves the checkout: an absolute target, or a ".." above the top. A ".." after a symlink
// applies to where the link leads, not to its text: "a0 -> ." and "b -> a0/.." leave.
func resolveInside(links map[string]string, name string) error {
	todo := append(strings.Split(path.Dir(name), "/"), strings.Split(links[name], "/")...)
	if path.IsAbs(links[name]) {
		return errors.New("is absolute")
	}
	var cur []string
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return errors.New("resolves outside the recipe checkout")
			}
			cur = cur[:len(cur)-1]
			continue
		}
		target, isLink := links[strings.Join(append(cur[:len(cur):len(cur)], c), "/")]
		if !isLink {
			cur = append(cur, c)
			continue
		}
		if hops++; hops > maxHops {
			return errors.New("goes through too many symlinks")
		}
		if path.IsAbs(target) {
			return errors.New("resolves outside the recipe checkout (through an absolute symlink)")
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return nil
}

// addWorkingTree walks a local working tree: .git and what .gitignore excludes are left
// out, and so are sockets, devices and pipes, which are no part of a recipe.
func (p *plan) addWorkingTree(ctx context.Context, root string, ignored gitignore.Matcher) error {
	err := filepath.WalkDir(root, func(pth string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, pth)
		if err != nil || rel == "." {
			return err
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if d.Name() == git.GitDirName || ignored.Match(parts, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		name := filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return p.add(entry{name: name, kind: kindDir})
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(pth)
			if err != nil {
				return err
			}
			return p.addLink(name, filepath.ToSlash(target))
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			kind := kindFile
			if info.Mode()&0o111 != 0 {
				kind = kindExec
			}
			return p.add(entry{name: name, kind: kind, size: info.Size()})
		}
		return nil
	})
	return err
}

// write checks the plan's symlinks, then writes it into dir (which must not exist or be
// empty) through an os.Root: directories and files in order, then symlinks, so that no
// write ever goes through one. open gives a file's content.
func (p *plan) write(ctx context.Context, dir string, open func(entry) (io.ReadCloser, error)) error {
	if err := p.checkLinks(); err != nil {
		return err
	}
	if err := freshDir(dir); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, e := range p.entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := filepath.FromSlash(e.name)
		switch e.kind {
		case kindDir:
			err = root.Mkdir(name, 0o755)
		case kindFile, kindExec:
			err = writeFile(root, e, open)
		}
		if err != nil {
			return err
		}
	}
	for _, e := range p.entries {
		if e.kind == kindLink {
			if err := root.Symlink(filepath.FromSlash(e.target), filepath.FromSlash(e.name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFile creates e's file anew (O_EXCL: never through an existing name, symlink or not)
// and streams its content into it, no more than the size the plan counted.
func writeFile(root *os.Root, e entry, open func(entry) (io.ReadCloser, error)) error {
	mode := os.FileMode(0o644)
	if e.kind == kindExec {
		mode = 0o755
	}
	r, err := open(e)
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := root.OpenFile(filepath.FromSlash(e.name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, e.size+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n != e.size {
		return confine.Unsafe("%q holds %d bytes, not the %d its metadata says", e.name, n, e.size)
	}
	return nil
}

// freshDir creates dir, or accepts it when it exists and is empty.
func freshDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("directory %s is not empty", dir)
	}
	return nil
}
