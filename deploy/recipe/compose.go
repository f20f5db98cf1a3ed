package recipe

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Default compose files, in order of preference, when COMPOSE_FILE is not set.
const (
	DefaultComposeFile = "compose.yml"
	LegacyComposeFile  = "docker-compose.yml"
)

// ComposeFiles returns the compose files of a deploy, relative to dir and in merge order:
// COMPOSE_FILE's colon-separated list when env sets it, otherwise compose.yml, or
// docker-compose.yml when that is the one the recipe has. Every file must exist inside dir.
func ComposeFiles(env map[string]string, dir string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	for _, f := range strings.Split(env["COMPOSE_FILE"], ":") {
		f = filepath.Clean(strings.TrimSpace(f))
		if f == "." || seen[f] {
			continue
		}
		seen[f] = true
		files = append(files, f)
	}
	if len(files) == 0 {
		for _, f := range []string{DefaultComposeFile, LegacyComposeFile} {
			if exists(filepath.Join(dir, f)) {
				return []string{f}, nil
			}
		}
		return nil, fmt.Errorf("compose files: no COMPOSE_FILE, and neither %s nor %s in the recipe", DefaultComposeFile, LegacyComposeFile)
	}
	for _, f := range files {
		if !filepath.IsLocal(f) {
			return nil, fmt.Errorf("compose files: COMPOSE_FILE entry %q is outside the recipe", f)
		}
		if !exists(filepath.Join(dir, f)) {
			return nil, fmt.Errorf("compose files: COMPOSE_FILE entry %q: %w", f, fs.ErrNotExist)
		}
	}
	return files, nil
}

func exists(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir()
}
