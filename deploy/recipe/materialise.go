package recipe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Materialise writes the tree of commit (a full commit id) into dir, which must not exist or
// be empty: each deploy of each run gets a directory of its own that nothing else writes to,
// so no file of one deploy can reach another. The source itself is not touched: no worktree
// is checked out, no ref moves.
func (s *Source) Materialise(ctx context.Context, commit, dir string) error {
	if len(commit) != 40 || !isLowerHex(commit) {
		return fmt.Errorf("materialise %q: want a full commit id", commit)
	}
	err := s.read(ctx, func(repo *git.Repository) error {
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
		if err := freshDir(dir); err != nil {
			return err
		}
		return writeTree(ctx, tree, dir)
	})
	if err != nil {
		return fmt.Errorf("materialise %s of %s: %w", shortHash(commit), s.URL(), err)
	}
	return nil
}

func writeTree(ctx context.Context, tree *object.Tree, dir string) error {
	files := tree.Files()
	defer files.Close()
	return files.ForEach(func(f *object.File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !filepath.IsLocal(f.Name) {
			return fmt.Errorf("tree entry %q escapes the directory", f.Name)
		}
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		switch f.Mode {
		case filemode.Symlink:
			target, err := f.Contents()
			if err != nil {
				return err
			}
			return writeSymlink(dir, f.Name, target)
		case filemode.Regular, filemode.Deprecated, filemode.Executable:
			r, err := f.Reader()
			if err != nil {
				return err
			}
			defer r.Close()
			return writeFile(dst, r, f.Mode == filemode.Executable)
		default:
			return nil
		}
	})
}

// MaterialiseWorkingTree copies a local source's working tree, as it is on disk with its
// uncommitted changes, into dir (which must not exist or be empty). .git and the files
// .gitignore excludes are left out. It stands for the checked-out HEAD only: use it when the
// run's head resolves to Resolve(ctx, "HEAD") and Dirty reports changes, and label the
// deploy with ChaosVersion(head, true).
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
	root := s.path
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(root, abs); err == nil && filepath.IsLocal(rel) {
		return fmt.Errorf("target %s is inside the source", dir)
	}
	patterns, err := gitignore.ReadPatterns(osfs.New(root), nil)
	if err != nil {
		return fmt.Errorf("read .gitignore: %w", err)
	}
	ignored := gitignore.NewMatcher(patterns)
	if err := freshDir(abs); err != nil {
		return err
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if parts[0] == git.GitDirName || ignored.Match(parts, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		dst := filepath.Join(abs, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return writeSymlink(abs, filepath.ToSlash(rel), target)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return writeFile(dst, f, info.Mode()&0o111 != 0)
		default:
			return nil // sockets, devices and pipes are no part of a recipe
		}
	})
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

func writeFile(dst string, r io.Reader, executable bool) error {
	mode := os.FileMode(0o644)
	if executable {
		mode = 0o755
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// writeSymlink recreates a recipe's symlink name → target under root, refusing targets that
// would point outside the materialised directory (and so into another deploy's files).
func writeSymlink(root, name, target string) error {
	if filepath.IsAbs(target) {
		return fmt.Errorf("symlink %s points to absolute path %s", name, target)
	}
	resolved := filepath.Join(filepath.Dir(filepath.FromSlash(name)), filepath.FromSlash(target))
	if !filepath.IsLocal(resolved) {
		return fmt.Errorf("symlink %s points outside the recipe", name)
	}
	dst := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.Symlink(target, dst)
}
