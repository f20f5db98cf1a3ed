package render

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/docker/cli/cli/compose/template"
	"github.com/docker/cli/pkg/kvfile"

	"github.com/swarmrun/swarmrun/deploy/confine"
)

// inlineEnvFiles reads the env_file entries of every service of src and moves their
// variables into the service's environment, removing env_file.
//
// docker's loader reads env files itself and fills a valueless line ("TOKEN") from the
// process environment, which would let the process environment leak into a render. Inlined
// here, valueless lines are filled from env instead; the result is what docker produces
// when its process environment is env. Values are escaped so that, as in docker, they are
// not interpolated. Env files are read through fsys, so a confined render reads them inside
// its directory only. Anything malformed is left alone for the loader to report: an
// env_file it cannot interpolate, or a malformed env_file or environment, fails the loader's
// interpolation or schema check before it reads any env file.
func inlineEnvFiles(src source, workingDir string, env map[string]string, fsys *files) error {
	services, ok := src.dict["services"].(map[string]any)
	if !ok {
		return nil
	}
	lookup := func(key string) (string, bool) {
		v, ok := env[key]
		return v, ok
	}
	for _, name := range slices.Sorted(maps.Keys(services)) {
		svc, ok := services[name].(map[string]any)
		if !ok {
			continue
		}
		keys := []string{"services", name, "env_file"}
		fail := func(err error) *Error {
			e := &Error{File: src.name, Path: strings.Join(keys, "."), Err: err}
			if line, depth := findLine(src.raw, keys); depth == len(keys) {
				e.Line = line
			}
			return e
		}
		files, ok := envFileList(svc["env_file"])
		if !ok {
			continue
		}
		vars := map[string]string{}
		var order []string
		for _, file := range files {
			path, err := template.Substitute(file, lookup)
			if err != nil {
				// The loader reports interpolation errors with their key path.
				files = nil
				break
			}
			lines, err := readEnvFile(fsys, resolve(workingDir, path), path, lookup)
			if errors.Is(err, confine.ErrUnsafe) {
				return fail(fmt.Errorf("%s: %w", strings.Join(keys, "."), err))
			}
			if err != nil {
				return fail(fmt.Errorf("env file %s: %w", path, err))
			}
			for _, line := range lines {
				k, v, _ := strings.Cut(line, "=")
				if _, seen := vars[k]; !seen {
					order = append(order, k)
				}
				vars[k] = v
			}
		}
		if files == nil {
			continue
		}
		merged, ok := mergeEnvironment(svc["environment"], vars, order)
		if !ok {
			continue
		}
		if merged != nil {
			svc["environment"] = merged
		}
		delete(svc, "env_file")
	}
	return nil
}

// envFileList returns the env_file entries, or false when env_file is absent or malformed.
func envFileList(v any) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return []string{v}, true
	case []any:
		files := make([]string, 0, len(v))
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, false
			}
			files = append(files, s)
		}
		return files, true
	}
	return nil, false
}

// mergeEnvironment adds the env file variables to a service's environment (list or mapping)
// without overriding the service's own entries, which take precedence in docker too. It
// returns false when the environment is malformed.
func mergeEnvironment(environment any, vars map[string]string, order []string) (any, bool) {
	escape := func(v string) string { return strings.ReplaceAll(v, "$", "$$") }
	switch e := environment.(type) {
	case nil:
		if len(order) == 0 {
			return nil, true
		}
		out := make(map[string]any, len(order))
		for _, k := range order {
			out[k] = escape(vars[k])
		}
		return out, true
	case map[string]any:
		out := maps.Clone(e)
		for _, k := range order {
			if _, own := e[k]; !own {
				out[k] = escape(vars[k])
			}
		}
		return out, true
	case []any:
		own := map[string]bool{}
		for _, item := range e {
			s, ok := item.(string)
			if !ok {
				return nil, false
			}
			k, _, _ := strings.Cut(s, "=")
			own[k] = true
		}
		// Env file entries first, so that the service's own entries win, as in docker.
		out := make([]any, 0, len(order)+len(e))
		for _, k := range order {
			if !own[k] {
				out = append(out, k+"="+escape(vars[k]))
			}
		}
		return append(out, e...), true
	}
	return nil, false
}

// readEnvFile parses the env file at path (absolute), named shown, as docker does, filling
// valueless lines from lookup. Its errors never quote the file's content, which may be secret.
func readEnvFile(fsys *files, path, shown string, lookup func(string) (string, bool)) ([]string, error) {
	raw, err := fsys.read(path, shown)
	if err != nil {
		return nil, err
	}
	lines, err := kvfile.ParseFromReader(bytes.NewReader(raw), lookup)
	if err != nil {
		msg := err.Error()
		switch {
		case strings.HasPrefix(msg, "no variable name on line"):
			return nil, errors.New("a line has no variable name")
		case strings.HasPrefix(msg, "invalid utf8 bytes at line"):
			before, _, _ := strings.Cut(msg, ":")
			return nil, errors.New(before)
		}
		return nil, err
	}
	return lines, nil
}
