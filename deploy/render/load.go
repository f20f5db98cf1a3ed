package render

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/cli/cli/compose/loader"
	"github.com/docker/cli/cli/compose/schema"
	composetypes "github.com/docker/cli/cli/compose/types"

	"github.com/swarmrun/swarmrun/deploy/confine"
)

// source is one compose document: a file or an inline overlay.
type source struct {
	// name is what errors call it: the path as given in Options.Files, or "overlay[i]".
	name string
	raw  []byte
	dict map[string]any
}

// versionKey is the compose "version" key: docker requires all files of one deploy to agree.
const versionKey = "version"

// readSources reads and parses the files, then the overlays, in merge order.
func readSources(ctx context.Context, opts Options, dir string, fsys *files) ([]source, error) {
	sources := make([]source, 0, len(opts.Files)+len(opts.Overlays))
	for _, name := range opts.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		raw, err := fsys.read(resolve(dir, name), name)
		if err != nil {
			if !errors.Is(err, confine.ErrUnsafe) {
				// The file is named already.
				err = fmt.Errorf("open: %w", err)
			}
			return nil, &Error{File: name, Err: err}
		}
		sources = append(sources, source{name: name, raw: raw})
	}
	for i, raw := range opts.Overlays {
		sources = append(sources, source{name: fmt.Sprintf("overlay[%d]", i), raw: raw})
	}
	if len(sources) == 0 {
		return nil, &Error{Err: errors.New("no compose files and no overlays")}
	}
	for i := range sources {
		dict, err := loader.ParseYAML(sources[i].raw)
		if err != nil {
			return nil, fileError(sources[i], err)
		}
		sources[i].dict = dict
	}
	adoptVersion(sources)
	replaceHealthcheckTests(sources, len(opts.Files))
	return sources, nil
}

// adoptVersion gives every document without a version key the version of the first one that
// has one. docker requires all files of a deploy to agree on it, and takes a missing key for
// its newest schema ("3.13" in CLI 28), so a recipe whose compose.yml has dropped the key (as
// the Compose Specification made it obsolete) but whose overlays still say "3.8" would not
// load. An inline overlay is a fragment written by an operator, not a versioned compose file,
// and is in the same position. Versions that are written and differ still fail, as in
// docker. This is the one way a render loads what `docker stack deploy` refuses.
func adoptVersion(sources []source) {
	var first any
	for _, src := range sources {
		if v, ok := src.dict[versionKey]; ok {
			first = v
			break
		}
	}
	if first == nil {
		return
	}
	for i := range sources {
		if _, ok := sources[i].dict[versionKey]; !ok {
			sources[i].dict[versionKey] = first
		}
	}
}

// replaceHealthcheckTests lets an overlay's healthcheck test replace the test of the
// documents before it. docker's merge appends lists (mergo.WithAppendSlice), and a test is a
// list: an overlay's ["CMD", "/probe", "-health"] over a recipe's ["CMD", "curl", ...]
// would run curl with the probe's words as arguments, and disable: true over a test is
// refused. So no overlay could change a healthcheck, which is what an operator needs when
// the image a run deploys is not the one the recipe's healthcheck was written for. Compose
// files merged by COMPOSE_FILE keep docker's semantics; overlays start at index first.
func replaceHealthcheckTests(sources []source, first int) {
	for i := first; i < len(sources); i++ {
		services, _ := sources[i].dict["services"].(map[string]any)
		for name, svc := range services {
			hc, _ := mapOf(svc)["healthcheck"].(map[string]any)
			_, test := hc["test"]
			_, disable := hc["disable"]
			if !test && !disable {
				continue
			}
			for j := 0; j < i; j++ {
				earlier, _ := sources[j].dict["services"].(map[string]any)
				if h, ok := mapOf(earlier[name])["healthcheck"].(map[string]any); ok {
					delete(h, "test")
				}
			}
		}
	}
}

// mapOf is v as a mapping, nil when it is not one.
func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// load runs docker's compose loader over the sources, as `docker stack deploy` does, and
// returns the merged configuration and docker's warnings about ignored options.
//
// The loader reports problems without naming the file, so each source is first loaded on
// its own: every check the loader makes per file then points at the right one. Only
// merge conflicts are found by the final load over all sources.
func load(sources []source, workingDir string, env map[string]string, fsys *files) (*composetypes.Config, []string, error) {
	details := composetypes.ConfigDetails{
		WorkingDir:  workingDir,
		Version:     schema.Version(sources[0].dict),
		Environment: env,
	}
	for _, src := range sources {
		if err := inlineEnvFiles(src, workingDir, env, fsys); err != nil {
			return nil, nil, err
		}
		one := details
		one.ConfigFiles = []composetypes.ConfigFile{{Filename: src.name, Config: src.dict}}
		if err := guard(func() error { _, err := loader.Load(one); return err }); err != nil {
			return nil, nil, loadError(src, err)
		}
	}

	all := details
	dicts := make([]map[string]any, 0, len(sources))
	for _, src := range sources {
		all.ConfigFiles = append(all.ConfigFiles, composetypes.ConfigFile{Filename: src.name, Config: src.dict})
		dicts = append(dicts, src.dict)
	}
	var cfg *composetypes.Config
	err := guard(func() (err error) { cfg, err = loader.Load(all); return err })
	if err != nil {
		names := make([]string, len(sources))
		for i, src := range sources {
			names[i] = src.name
		}
		return nil, nil, &Error{File: strings.Join(names, ", "), Err: err}
	}

	var warnings []string
	if unsupported := loader.GetUnsupportedProperties(dicts...); len(unsupported) > 0 {
		warnings = append(warnings, "ignoring unsupported options: "+strings.Join(unsupported, ", "))
	}
	deprecated := loader.GetDeprecatedProperties(dicts...)
	for _, name := range slices.Sorted(maps.Keys(deprecated)) {
		warnings = append(warnings, fmt.Sprintf("ignoring deprecated option %s: %s", name, deprecated[name]))
	}

	if err := checkImages(sources, cfg); err != nil {
		return nil, nil, err
	}
	return cfg, warnings, nil
}

// guard runs f and turns a panic into an error. docker's loader trusts its input more than
// it should (a ulimit with "soft" but no "hard" panics); bad input must give an error.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("docker's compose code crashed on this input: %v", r)
		}
	}()
	return f()
}

// loadError turns an error of the loader for one source into an *Error. Forbidden options
// get docker's explanation and the key of the first service that uses one.
func loadError(src source, err error) *Error {
	var fpe *loader.ForbiddenPropertiesError
	if !errors.As(err, &fpe) {
		return fileError(src, err)
	}
	msgs := make([]string, 0, len(fpe.Properties))
	for name, description := range fpe.Properties {
		msgs = append(msgs, name+": "+description)
	}
	sort.Strings(msgs)
	e := &Error{File: src.name, Err: fmt.Errorf("compose file contains unsupported options: %s", strings.Join(msgs, "; "))}
	services, _ := src.dict["services"].(map[string]any)
	for _, svc := range slices.Sorted(maps.Keys(services)) {
		dict, _ := services[svc].(map[string]any)
		for _, prop := range slices.Sorted(maps.Keys(fpe.Properties)) {
			if _, ok := dict[prop]; ok {
				path := []string{"services", svc, prop}
				e.Path = strings.Join(path, ".")
				if line, depth := findLine(src.raw, path); depth == len(path) {
					e.Line = line
				}
				return e
			}
		}
	}
	return e
}

// checkImages rejects services without a valid image reference, as docker's stack loader
// does after loading.
func checkImages(sources []source, cfg *composetypes.Config) error {
	services := slices.Clone(cfg.Services)
	sort.Slice(services, func(i, j int) bool { return services[i].Name < services[j].Name })
	for _, svc := range services {
		path := []string{"services", svc.Name, "image"}
		if svc.Image == "" {
			return locate(sources, path, fmt.Errorf("invalid image reference for service %s: no image specified", svc.Name))
		}
		if _, err := reference.ParseAnyReference(svc.Image); err != nil {
			return locate(sources, path, fmt.Errorf("invalid image reference for service %s: %w", svc.Name, err))
		}
	}
	return nil
}
