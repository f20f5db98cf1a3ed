package render

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Render loads the compose files and overlays of opts with docker's compose loader and
// converts them with docker's converter, the way `docker stack deploy` does, into the swarm
// objects of stack opts.Stack. It reads files only; it talks to no engine.
//
// Bad input (unreadable file, YAML syntax, schema violation, undefined reference, missing
// image, interpolation error) gives an *Error naming the file and, where known, the key
// path and line. Secret data never appears in errors.
//
// Unless opts.HostPaths is set, every file is read inside opts.Dir only (see Options.Dir):
// a compose file, env_file, or secret or config file that is absolute, climbs out with ".."
// or leads out through symlinks is refused with an *Error that also matches confine.ErrUnsafe, and
// nothing outside is read. docker's converter never reads a file itself: Render reads the
// content of file-based secrets and configs and hands it over.
//
// Two differences from docker, both because a render has no engine: secret and config
// references carry empty IDs (the apply step fills them in), and external secrets, configs and
// networks are listed in the Stack instead of being looked up.
func Render(ctx context.Context, opts Options) (*Stack, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if strings.TrimFunc(opts.Stack, quoteOrSpace) == "" {
		return nil, &Error{Err: fmt.Errorf("invalid stack name: %q", opts.Stack)}
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("render: directory %q: %w", opts.Dir, err)
	}
	workingDir := dir
	if len(opts.Files) > 0 {
		workingDir = filepath.Dir(resolve(dir, opts.Files[0]))
	}

	fsys, err := openFiles(dir, opts.HostPaths)
	if err != nil {
		return nil, &Error{Err: fmt.Errorf("directory %s: %w", opts.Dir, err)}
	}
	defer fsys.close()

	sources, err := readSources(ctx, opts, dir, fsys)
	if err != nil {
		return nil, err
	}
	// The loader keeps the map it is given; a copy keeps the caller's map out of reach.
	env := maps.Clone(opts.Env)
	if env == nil {
		env = map[string]string{}
	}
	cfg, warnings, err := load(sources, workingDir, env, fsys)
	if err != nil {
		return nil, err
	}
	if opts.Adjust != nil {
		if err := opts.Adjust(cfg); err != nil {
			return nil, err
		}
	}
	printed := &yaml.Node{}
	if err := printed.Encode(cfg); err != nil {
		return nil, fmt.Errorf("render: keep the configuration: %w", err)
	}
	st, err := convertStack(ctx, sources, opts.Stack, cfg, fsys)
	if err != nil {
		var re *Error
		if errors.As(err, &re) {
			return nil, err
		}
		return nil, fmt.Errorf("render: %w", err)
	}
	st.Warnings = warnings
	st.config = printed
	st.Digest = st.computeDigest()
	return st, nil
}

// quoteOrSpace is what docker trims before it rejects an empty stack name.
func quoteOrSpace(r rune) bool {
	return unicode.IsSpace(r) || r == '"' || r == '\''
}
