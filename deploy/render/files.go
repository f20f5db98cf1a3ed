package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/swarmrun/swarmrun/deploy/confine"
)

// files reads what a render reads: the compose files and the files they name (env_file,
// secret and config files). Confined (the default), it reads inside dir only, through an
// os.Root: a path that is absolute, climbs out of dir or leads out through symlinks is a
// refusal matching confine.ErrUnsafe, and a file over confine.MaxFileSize is refused too.
// With Options.HostPaths it reads anywhere, as docker stack deploy does.
type files struct {
	dir  string       // absolute
	root *confine.Dir // nil with HostPaths
}

// openFiles opens the reader of a render over dir (absolute).
func openFiles(dir string, hostPaths bool) (*files, error) {
	if hostPaths {
		return &files{dir: dir}, nil
	}
	root, err := confine.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	return &files{dir: dir, root: root}, nil
}

func (f *files) close() {
	if f.root != nil {
		_ = f.root.Close()
	}
}

// read reads the file at p (absolute), named shown in errors. Errors never repeat the
// absolute path: the caller names the file as written.
func (f *files) read(p, shown string) ([]byte, error) {
	if f.root == nil {
		data, err := os.ReadFile(p)
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return data, err
	}
	rel, err := confine.Within(f.dir, p, shown)
	if err != nil {
		return nil, err
	}
	return f.root.ReadFile(rel, 0)
}

// keyError says what went wrong with the file a key names: a refusal as "key: refusal", any
// other error as "open <file>: error", the way docker words it.
func keyError(key, shown string, err error) error {
	if errors.Is(err, confine.ErrUnsafe) {
		return fmt.Errorf("%s: %w", key, err)
	}
	return fmt.Errorf("open %s: %w", shown, err)
}

// resolve makes name absolute against dir.
func resolve(dir, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(dir, name)
}

// readObjectFile reads the file of a file-based secret or config at key path (the loader
// made it absolute), blaming errors on the key in the last source that sets it.
func readObjectFile(fsys *files, sources []source, path []string, file string) ([]byte, error) {
	shown := writtenValue(sources, path, file)
	data, err := fsys.read(file, shown)
	if err != nil {
		return nil, locate(sources, path, keyError(strings.Join(path, "."), shown, err))
	}
	// The converter keeps an empty file's content as a non-nil empty slice.
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// writtenValue is the value at path as the last source that sets it writes it (before
// interpolation), or resolved when no source writes it as a scalar.
func writtenValue(sources []source, path []string, resolved string) string {
	for i := len(sources) - 1; i >= 0; i-- {
		if v, ok := scalarAt(sources[i].raw, path); ok {
			if strings.Contains(v, "$") {
				return v + " (" + resolved + ")"
			}
			return v
		}
	}
	return resolved
}
