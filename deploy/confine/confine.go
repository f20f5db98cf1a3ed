package confine

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrUnsafe is what every refusal of recipe content matches: a path that is absolute or lands
// outside the checkout (by ".." or through symlinks), a tree that cannot be written safely,
// or content over a limit. It is final: retrying cannot help.
var ErrUnsafe = errors.New("unsafe recipe content")

// ErrTooLarge is what a refusal over a size or count limit matches, besides ErrUnsafe.
var ErrTooLarge = fmt.Errorf("%w: too large", ErrUnsafe)

// MaxFileSize bounds one file read through a Dir: a compose file, an env file, a secret or a
// config. Swarm itself refuses secrets over 500 KiB and configs over 1000 KiB.
const MaxFileSize = 4 << 20

// refusal is an error whose text is exactly its message and that matches kind and ErrUnsafe.
type refusal struct {
	err  error
	kind error
}

func (r *refusal) Error() string { return r.err.Error() }

func (r *refusal) Unwrap() error { return r.err }

func (r *refusal) Is(target error) bool { return target == r.kind || target == ErrUnsafe }

// Unsafe returns a refusal with the message fmt.Errorf(format, args...) gives (which may wrap
// a cause with %w) that matches ErrUnsafe.
func Unsafe(format string, args ...any) error {
	return &refusal{err: fmt.Errorf(format, args...), kind: ErrUnsafe}
}

// TooLarge returns a refusal like Unsafe that also matches ErrTooLarge.
func TooLarge(format string, args ...any) error {
	return &refusal{err: fmt.Errorf(format, args...), kind: ErrTooLarge}
}

// Outside is the refusal of a path (shown as written) that is absolute or lands outside.
func Outside(shown string) error {
	return Unsafe("%q is outside the recipe checkout", shown)
}

// Local cleans name, a path relative to the directory, and refuses it (Outside) when it is
// absolute or climbs out with "..". It looks at the text only; Dir's methods also resolve
// symlinks on disk.
func Local(name string) (string, error) {
	if filepath.IsAbs(name) {
		return "", Outside(name)
	}
	clean := filepath.Clean(filepath.FromSlash(name))
	if !filepath.IsLocal(clean) {
		return "", Outside(name)
	}
	return clean, nil
}

// Within returns abs (an absolute path, or one relative to the working directory) relative to
// dir, refusing it (Outside, naming it as shown) when it does not lie inside dir.
func Within(dir, abs, shown string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	p, err := filepath.Abs(abs)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(d, p)
	if err != nil || !filepath.IsLocal(rel) {
		return "", Outside(shown)
	}
	return rel, nil
}

// Dir is a directory whose files are opened only inside it.
type Dir struct {
	root *os.Root
}

// OpenDir opens the directory at path. The caller closes it.
func OpenDir(path string) (*Dir, error) {
	r, err := os.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	return &Dir{root: r}, nil
}

// Close releases the directory.
func (d *Dir) Close() error { return d.root.Close() }

// Stat returns the file info of name (following symlinks that stay inside). A name that is
// absolute or lands outside is refused.
func (d *Dir) Stat(name string) (fs.FileInfo, error) {
	var info fs.FileInfo
	err := d.in(name, func(clean string) (err error) {
		info, err = d.root.Stat(clean)
		return err
	})
	return info, err
}

// Open opens the regular file name for reading. A name that is absolute or lands outside is
// refused, and so is anything but a regular file (a device or a pipe could block or never end).
func (d *Dir) Open(name string) (*os.File, error) {
	var f *os.File
	if err := d.in(name, func(clean string) (err error) {
		f, err = d.root.Open(clean)
		return err
	}); err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if !info.Mode().IsRegular() {
		_ = f.Close()
		if info.IsDir() {
			return nil, fmt.Errorf("%q is a directory", name)
		}
		return nil, Unsafe("%q is not a regular file", name)
	}
	return f, nil
}

// in runs op on name cleaned, refusing a name that is absolute or climbs out before, and one
// that leads out through a symlink after.
func (d *Dir) in(name string, op func(clean string) error) error {
	clean, err := Local(name)
	if err != nil {
		return err
	}
	if err := op(clean); err != nil {
		return d.pathError(name, err)
	}
	return nil
}

// ReadFile reads the regular file name, refused as Open refuses it, and with ErrTooLarge when
// it holds more than limit bytes (MaxFileSize when limit is zero or less).
func (d *Dir) ReadFile(name string, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = MaxFileSize
	}
	f, err := d.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, TooLarge("%q is larger than %d bytes", name, limit)
	}
	return data, nil
}

// pathError turns an error of the root into a refusal when the path escapes through a
// symlink, and otherwise strips the repeated path from it (the caller names the file).
func (d *Dir) pathError(name string, err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return err
	}
	if escapes(pe.Err) {
		return Unsafe("%q is outside the recipe checkout (through a symlink)", name)
	}
	return pe.Err
}

// escapes reports whether err is os.Root's refusal of a path that leaves the root. The os
// package does not export it; its text is pinned by TestDirRefusesSymlinkEscapes.
func escapes(err error) bool {
	return err != nil && err.Error() == "path escapes from parent"
}
