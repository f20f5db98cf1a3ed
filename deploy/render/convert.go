package render

import (
	"context"
	"errors"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/docker/cli/cli/compose/convert"
	composetypes "github.com/docker/cli/cli/compose/types"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// DefaultNetworkDriver is the driver `docker stack deploy` gives a stack network that names
// none. The converter leaves the driver empty and docker fills it in when it creates the
// network; Render fills it in already, so Stack.Networks is exactly what gets created.
const DefaultNetworkDriver = "overlay"

// converterAPIVersion is the engine API version the converter is told it talks to. Its only
// use is to choose TaskTemplate.Networks (API >= 1.29) over the deprecated
// ServiceSpec.Networks; every engine swarmrun supports is past that.
const converterAPIVersion = "1.41"

// convertStack turns a loaded configuration into the stack's swarm objects with docker's
// converter, the same calls in the same order as `docker stack deploy`.
func convertStack(ctx context.Context, sources []source, name string, cfg *composetypes.Config, fsys *files) (*Stack, error) {
	ns := convert.NewNamespace(name)
	st := &Stack{
		Name:     name,
		Networks: map[string]network.CreateOptions{},
		Secrets:  map[string]swarm.SecretSpec{},
		Configs:  map[string]swarm.ConfigSpec{},
		Services: map[string]swarm.ServiceSpec{},
		Images:   map[string]string{},
	}

	networks, externalNetworks := convert.Networks(ns, cfg.Networks, declaredNetworks(cfg.Services))
	for full, opts := range networks {
		if opts.Driver == "" {
			opts.Driver = DefaultNetworkDriver
		}
		st.Networks[full] = opts
	}
	st.ExternalNetworks = sortedUnique(externalNetworks)

	// One object at a time, so a file that cannot be read is blamed on its own key. The
	// converter would read a file-based object's content from the host path the loader
	// resolved; Render reads it through fsys instead and gives the converter an empty file.
	lister := &nameLister{secrets: map[string]bool{}, configs: map[string]bool{}}
	for _, key := range slices.Sorted(maps.Keys(cfg.Secrets)) {
		secret := cfg.Secrets[key]
		path := []string{"secrets", key, "file"}
		var data []byte
		if !secret.External.External && secret.Driver == "" && secret.File != "" {
			var err error
			if data, err = readObjectFile(fsys, sources, path, secret.File); err != nil {
				return nil, err
			}
			secret.File = os.DevNull
		}
		var specs []swarm.SecretSpec
		err := guard(func() (err error) {
			specs, err = convert.Secrets(ns, map[string]composetypes.SecretConfig{key: secret})
			return err
		})
		if err != nil {
			return nil, locate(sources, path, err)
		}
		if secret.External.External {
			st.ExternalSecrets = append(st.ExternalSecrets, secret.Name)
			lister.secrets[secret.Name] = true
			if st.SecretSources == nil {
				st.SecretSources = map[string]ObjectSource{}
			}
			st.SecretSources[secret.Name] = objectSource(sources, "secrets", key)
		}
		for _, spec := range specs {
			if data != nil {
				spec.Data = data
			}
			st.Secrets[spec.Name] = spec
			lister.secrets[spec.Name] = true
		}
	}
	for _, key := range slices.Sorted(maps.Keys(cfg.Configs)) {
		config := cfg.Configs[key]
		path := []string{"configs", key, "file"}
		var data []byte
		if !config.External.External && config.File != "" {
			var err error
			if data, err = readObjectFile(fsys, sources, path, config.File); err != nil {
				return nil, err
			}
			config.File = os.DevNull
		}
		var specs []swarm.ConfigSpec
		err := guard(func() (err error) {
			specs, err = convert.Configs(ns, map[string]composetypes.ConfigObjConfig{key: config})
			return err
		})
		if err != nil {
			return nil, locate(sources, path, err)
		}
		if config.External.External {
			st.ExternalConfigs = append(st.ExternalConfigs, config.Name)
			lister.configs[config.Name] = true
		}
		if st.ConfigSources == nil {
			st.ConfigSources = map[string]ObjectSource{}
		}
		if config.External.External {
			st.ConfigSources[config.Name] = objectSource(sources, "configs", key)
		}
		for _, spec := range specs {
			if data != nil {
				spec.Data = data
			}
			st.Configs[spec.Name] = spec
			lister.configs[spec.Name] = true
			st.ConfigSources[spec.Name] = objectSource(sources, "configs", key)
		}
	}
	st.ExternalSecrets = sortedUnique(st.ExternalSecrets)
	st.ExternalConfigs = sortedUnique(st.ExternalConfigs)

	services := slices.Clone(cfg.Services)
	sort.Slice(services, func(i, j int) bool { return services[i].Name < services[j].Name })
	// A mount names a volume by its full name; external ones are not the stack's to own.
	external := map[string]bool{}
	for key, v := range cfg.Volumes {
		full := ns.Scope(key)
		if v.Name != "" {
			full = v.Name
		}
		external[full] = v.External.External
	}
	volumes, externalVolumes := map[string]bool{}, map[string]bool{}
	for _, svc := range services {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// One service at a time, so that an error names the service and its file.
		one := *cfg
		one.Services = composetypes.Services{svc}
		var specs map[string]swarm.ServiceSpec
		err := guard(func() (err error) {
			specs, err = convert.Services(ctx, ns, &one, lister)
			return err
		})
		if err != nil {
			return nil, serviceError(sources, svc.Name, err)
		}
		spec, ok := specs[svc.Name]
		if !ok {
			return nil, locate(sources, []string{"services", svc.Name}, errors.New("converter returned no service spec"))
		}
		sortReferences(spec.TaskTemplate.ContainerSpec)
		st.Services[spec.Name] = spec
		st.Images[spec.Name] = spec.Labels[convert.LabelImage]
		for _, m := range spec.TaskTemplate.ContainerSpec.Mounts {
			if m.Type != mount.TypeVolume || m.Source == "" {
				continue
			}
			if external[m.Source] {
				externalVolumes[m.Source] = true
			} else {
				volumes[m.Source] = true
			}
		}
	}
	st.Volumes = slices.Sorted(maps.Keys(volumes))
	st.ExternalVolumes = slices.Sorted(maps.Keys(externalVolumes))
	return st, nil
}

// objectSource finds where the secret or config key of kind ("secrets" or "configs") writes
// its name: the last source that writes one wins, as in the merge.
func objectSource(sources []source, kind, key string) ObjectSource {
	src := ObjectSource{Key: key}
	namePath := []string{kind, key, "name"}
	for i := len(sources) - 1; i >= 0; i-- {
		if v, ok := scalarAt(sources[i].raw, namePath); ok {
			src.File, src.Written = sources[i].name, v
			src.Line, _ = findLine(sources[i].raw, namePath)
			return src
		}
	}
	keyPath := []string{kind, key}
	for i := len(sources) - 1; i >= 0; i-- {
		if line, depth := findLine(sources[i].raw, keyPath); depth == len(keyPath) {
			src.File, src.Line = sources[i].name, line
			break
		}
	}
	return src
}

// declaredNetworks are the networks the services join; a service that names none joins
// "default". Mirrors docker's stack deploy, which creates only networks in use.
func declaredNetworks(services []composetypes.ServiceConfig) map[string]struct{} {
	declared := map[string]struct{}{}
	for _, svc := range services {
		if len(svc.Networks) == 0 {
			declared["default"] = struct{}{}
			continue
		}
		for name := range svc.Networks {
			declared[name] = struct{}{}
		}
	}
	return declared
}

// sortReferences makes the order of secret and config references deterministic. docker sorts
// them by name only, which leaves two mounts of one secret in map order; the engine treats
// the lists as sets, so a full order changes nothing but makes renders comparable.
func sortReferences(c *swarm.ContainerSpec) {
	if c == nil {
		return
	}
	sort.SliceStable(c.Secrets, func(i, j int) bool {
		a, b := c.Secrets[i], c.Secrets[j]
		if a.SecretName != b.SecretName {
			return a.SecretName < b.SecretName
		}
		return fileName(a.File) < fileName(b.File)
	})
	sort.SliceStable(c.Configs, func(i, j int) bool {
		a, b := c.Configs[i], c.Configs[j]
		if a.ConfigName != b.ConfigName {
			return a.ConfigName < b.ConfigName
		}
		var fa, fb string
		if a.File != nil {
			fa = a.File.Name
		}
		if b.File != nil {
			fb = b.File.Name
		}
		return fa < fb
	})
}

func fileName(f *swarm.SecretReferenceFileTarget) string {
	if f == nil {
		return ""
	}
	return f.Name
}

// undefinedPattern matches the converter's "undefined network|secret|config|volume" errors.
var undefinedPattern = regexp.MustCompile(`^undefined (network|secret|config|volume) "([^"]*)"`)

// serviceError blames a converter error on the service's key, or on the reference it names.
func serviceError(sources []source, service string, err error) *Error {
	path := []string{"services", service}
	// The converter prefixes its errors with "service <name>: ".
	msg := strings.TrimPrefix(err.Error(), "service "+service+": ")
	if m := undefinedPattern.FindStringSubmatch(msg); m != nil {
		path = append(path, m[1]+"s", m[2])
	}
	return locate(sources, path, err)
}

// sortedUnique sorts names and drops duplicates.
func sortedUnique(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}

// nameLister stands in for the engine client that convert.Services wants. The converter asks
// the engine only for the IDs of the secrets and configs a service references (and for the
// client's API version); a render has no engine, so the lister answers with every object the
// stack declares, with an empty ID that the apply step fills in from the live objects. A name the
// stack does not declare is not found, exactly as on an engine without it.
//
// The embedded interface is nil: a converter that starts calling anything else panics in
// the tests instead of silently talking to nothing.
type nameLister struct {
	client.APIClient
	secrets map[string]bool
	configs map[string]bool
}

// ClientVersion implements client.APIClient for the converter.
func (*nameLister) ClientVersion() string { return converterAPIVersion }

// SecretList implements client.APIClient for the converter: it answers name filters only.
func (l *nameLister) SecretList(_ context.Context, opts swarm.SecretListOptions) ([]swarm.Secret, error) {
	var out []swarm.Secret
	for _, name := range opts.Filters.Get("name") {
		if l.secrets[name] {
			out = append(out, swarm.Secret{Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: name}}})
		}
	}
	return out, nil
}

// ConfigList implements client.APIClient for the converter: it answers name filters only.
func (l *nameLister) ConfigList(_ context.Context, opts swarm.ConfigListOptions) ([]swarm.Config, error) {
	var out []swarm.Config
	for _, name := range opts.Filters.Get("name") {
		if l.configs[name] {
			out = append(out, swarm.Config{Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: name}}})
		}
	}
	return out, nil
}
