package render

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// GeneratedExtension marks, in a printed configuration, an external secret whose value the
// run generates and creates with the stack (ProvideSecrets), with the value's length.
const GeneratedExtension = "x-swarmrun-generated"

// ComposeYAML prints the merged configuration the stack was converted from, after Adjust,
// exactly as `docker stack config` prints a configuration (docker/cli
// cli/command/stack/config.go: gopkg.in/yaml.v3, indent 2). For compose files and an env
// that need no adjusting, it is byte for byte what `docker stack config` prints for the same
// files under the same environment, with two differences a confined render makes: env_file
// entries are inlined into environment (see inlineEnvFiles), and a file without a version
// key takes the version of the others (adoptVersion). Secrets the run generates stay
// external, as the recipe declares them, marked with GeneratedExtension. It prints no secret
// data: file-based secrets and configs appear by their file.
func (s *Stack) ComposeYAML() ([]byte, error) {
	if s.config == nil {
		return nil, fmt.Errorf("stack %s: no configuration kept (not made by Render)", s.Name)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(s.config); err != nil {
		return nil, fmt.Errorf("stack %s: print configuration: %w", s.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("stack %s: print configuration: %w", s.Name, err)
	}
	return buf.Bytes(), nil
}

// markGenerated marks the external secrets of the printed configuration that values
// provides (by full name) with GeneratedExtension and the value's length.
func (s *Stack) markGenerated(values map[string][]byte) {
	secrets := mapValue(s.config, "secrets")
	if secrets == nil {
		return
	}
	for i := 0; i+1 < len(secrets.Content); i += 2 {
		secret := secrets.Content[i+1]
		name := mapValue(secret, "name")
		if name == nil {
			continue
		}
		data, ok := values[name.Value]
		if !ok {
			continue
		}
		ext := &yaml.Node{}
		if err := ext.Encode(map[string]int{"length": len(data)}); err != nil {
			continue // a map of one int always encodes
		}
		secret.Content = append(secret.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: GeneratedExtension}, ext)
	}
}

// mapValue is the value of key in a YAML mapping node, nil when there is none.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// ComposeVersion is the version of the merged configuration ("3.8"), as it prints.
func (s *Stack) ComposeVersion() string {
	if v := mapValue(s.config, versionKey); v != nil {
		return v.Value
	}
	return ""
}

// Keys lists the compose keys of a top-level section of the merged configuration
// ("services", "secrets", "configs", "networks", "volumes"), in the order it prints them.
func (s *Stack) Keys(section string) []string {
	m := mapValue(s.config, section)
	if m == nil {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(m.Content); i += 2 {
		out = append(out, m.Content[i].Value)
	}
	return out
}
