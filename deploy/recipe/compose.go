package recipe

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/swarmrun/swarmrun/deploy/confine"
)

// Default compose files, in order of preference, when COMPOSE_FILE is not set.
const (
	DefaultComposeFile = "compose.yml"
	LegacyComposeFile  = "docker-compose.yml"
)

// ComposeFiles returns the compose files of a deploy, relative to dir and in merge order:
// COMPOSE_FILE's colon-separated list when env sets it, otherwise compose.yml, or
// docker-compose.yml when that is the one the recipe has. Every file must exist inside dir:
// an entry that is absolute, climbs out with "..", or is a symlink leading outside dir is
// refused with an error matching ErrUnsafe.
func ComposeFiles(env map[string]string, dir string) ([]string, error) {
	root, err := confine.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("compose files: %w", err)
	}
	defer root.Close()
	var files []string
	seen := map[string]bool{}
	for _, f := range strings.Split(env["COMPOSE_FILE"], ":") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		clean, err := confine.Local(f)
		if err != nil {
			return nil, fmt.Errorf("compose files: COMPOSE_FILE: %w", err)
		}
		if clean == "." || seen[clean] {
			continue
		}
		seen[clean] = true
		files = append(files, clean)
	}
	if len(files) == 0 {
		for _, f := range []string{DefaultComposeFile, LegacyComposeFile} {
			ok, err := isFile(root, f)
			if err != nil {
				return nil, fmt.Errorf("compose files: %s: %w", f, err)
			}
			if ok {
				return []string{f}, nil
			}
		}
		return nil, fmt.Errorf("compose files: no COMPOSE_FILE, and neither %s nor %s in the recipe", DefaultComposeFile, LegacyComposeFile)
	}
	for _, f := range files {
		ok, err := isFile(root, f)
		if err != nil {
			return nil, fmt.Errorf("compose files: COMPOSE_FILE entry %q: %w", f, err)
		}
		if !ok {
			return nil, fmt.Errorf("compose files: COMPOSE_FILE entry %q: %w", f, fs.ErrNotExist)
		}
	}
	return files, nil
}

// isFile reports whether name is a file inside root; a symlink leading outside is an error.
func isFile(root *confine.Dir, name string) (bool, error) {
	info, err := root.Stat(name)
	switch {
	case errors.Is(err, confine.ErrUnsafe):
		return false, err
	case err != nil:
		return false, nil
	}
	return !info.IsDir(), nil
}
