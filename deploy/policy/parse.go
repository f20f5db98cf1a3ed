package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Load reads the policy file at path (YAML or JSON) with Parse. Problems name the file.
func Load(path string) (Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Policy{}, fmt.Errorf("deploy policy: %w", err)
	}
	p, err := Parse(data)
	var ie *InvalidError
	if errors.As(err, &ie) {
		ie.File = path
	}
	return p, err
}

// Parse reads a policy from YAML or JSON, strictly: an unknown field, a key given twice or a
// value of the wrong type is a problem, and so is every entry Validate refuses. All problems
// are reported at once in an *InvalidError (errors.Is(err, ErrInvalid)), each with its field
// path. An empty document is Default.
func Parse(data []byte) (Policy, error) {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		// The YAML library's messages span lines ("unmarshal errors:\n  line 2: ...").
		return Policy{}, &InvalidError{Problems: []Problem{{Message: strings.Join(strings.Fields(err.Error()), " ")}}}
	}
	var raw any
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Policy{}, &InvalidError{Problems: []Problem{{Message: err.Error()}}}
	}
	if raw == nil {
		return Default(), nil
	}
	var probs []Problem
	shape(reflect.TypeFor[Policy](), raw, "", &probs)
	if len(probs) > 0 {
		return Policy{}, &InvalidError{Problems: probs}
	}
	var p Policy
	if err := json.Unmarshal(j, &p); err != nil {
		// shape accepted the document, so this is a bug in shape, not in the file.
		return Policy{}, fmt.Errorf("deploy policy: decode: %w", err)
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// shape checks that v, a decoded JSON value, has the shape of type t: known fields only,
// lists where lists go, strings, booleans and integers where they go. Problems get the
// field path of the value.
func shape(t reflect.Type, v any, field string, probs *[]Problem) {
	bad := func(want string) {
		*probs = append(*probs, Problem{Field: field, Message: fmt.Sprintf("expected %s, got %s", want, describe(v))})
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("a mapping")
			return
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			ft, ok := fields[k]
			if !ok {
				*probs = append(*probs, Problem{Field: join(field, k),
					Message: "unknown field (want one of " + strings.Join(slices.Sorted(maps.Keys(fields)), ", ") + ")"})
				continue
			}
			shape(ft, obj[k], join(field, k), probs)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("a mapping")
			return
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			shape(t.Elem(), obj[k], join(field, k), probs)
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			bad("a list")
			return
		}
		for i, item := range list {
			shape(t.Elem(), item, fmt.Sprintf("%s[%d]", field, i), probs)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			bad("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			bad("true or false")
		}
	case reflect.Int:
		n, ok := v.(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			bad("an integer")
		}
	default:
		panic("policy: shape: no rule for " + t.String())
	}
}

// jsonFields maps the JSON names of t's fields to their types, with the fields of inlined
// (anonymous, unnamed) structs lifted, as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			maps.Copy(out, jsonFields(f.Type))
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", v)
	case bool:
		return fmt.Sprintf("%t", v)
	case json.Number:
		return "the number " + v.String()
	}
	return fmt.Sprintf("%T", v)
}

// Validate checks every entry of p: host paths clean and absolute, never "/", an engine
// socket path or a directory around one; names that the engine could hold; ports in range;
// recipe names that Recipes can have. It returns an *InvalidError listing every problem.
func (p Policy) Validate() error {
	var probs []Problem
	p.Allow.validate("", &probs)
	for _, name := range slices.Sorted(maps.Keys(p.Recipes)) {
		field := join("recipes", name)
		if !recipeName.MatchString(name) || len(name) > maxRecipeName {
			probs = append(probs, Problem{Field: field, Message: fmt.Sprintf(
				"%q is not a Recipe name (a DNS label of at most %d characters)", name, maxRecipeName)})
		}
		sec := p.Recipes[name]
		if sec.Source != strings.TrimSpace(sec.Source) {
			probs = append(probs, Problem{Field: join(field, "source"), Message: "has leading or trailing spaces"})
		}
		sec.Allow.validate(field, &probs)
	}
	if len(probs) > 0 {
		sortProblems(probs)
		return &InvalidError{Problems: probs}
	}
	return nil
}

// maxRecipeName is spec.MaxNameLength: the longest Recipe name the API accepts.
const maxRecipeName = 40

var (
	recipeName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// objectName is what swarmkit accepts as a secret or config name (at most 64 characters).
	objectName = regexp.MustCompile(`^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$`)
	// networkName and volumeName are what the engine accepts for those.
	networkName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	volumeName  = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)
)

func (a Allow) validate(field string, probs *[]Problem) {
	add := func(f string, i int, format string, args ...any) {
		*probs = append(*probs, Problem{Field: fmt.Sprintf("%s[%d]", join(field, f), i), Message: fmt.Sprintf(format, args...)})
	}
	for f, list := range map[string][]string{"bindMounts": a.BindMounts, "writableBindMounts": a.WritableBindMounts} {
		for i, p := range list {
			switch {
			case !path.IsAbs(p):
				add(f, i, "%q is not an absolute path", p)
			case p == "/":
				add(f, i, "\"/\" would allow every host path")
			case path.Clean(p) != p:
				add(f, i, "%q is not clean (write %s)", p, path.Clean(p))
			case engineReason(p) != "":
				add(f, i, "%q: %s", p, engineReason(p))
			}
		}
	}
	names := []struct {
		field string
		list  []string
		re    *regexp.Regexp
		max   int
	}{
		{"externalSecrets", a.ExternalSecrets, objectName, 64},
		{"externalConfigs", a.ExternalConfigs, objectName, 64},
		{"externalNetworks", a.ExternalNetworks, networkName, 255},
		{"externalVolumes", a.ExternalVolumes, volumeName, 255},
	}
	for _, n := range names {
		for i, name := range n.list {
			switch {
			case !n.re.MatchString(name) || len(name) > n.max:
				add(n.field, i, "%q is not a valid name", name)
			case n.field == "externalNetworks" && name == "host":
				add(n.field, i, "the host network is never allowed (rule %s)", RuleHostNetwork)
			}
		}
	}
	for i, port := range a.PublishedPorts {
		if port < 1 || port > 65535 {
			add("publishedPorts", i, "%d is not a port (1 to 65535)", port)
		}
	}
}

// sortProblems orders problems by field, so that they come out the same way every time
// (validation walks maps).
func sortProblems(probs []Problem) {
	slices.SortStableFunc(probs, func(a, b Problem) int { return naturalCompare(a.Field, b.Field) })
}
