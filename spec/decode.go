package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// Limits that keep a hostile document from costing more than a real one ever would. Aliases
// let a few lines of YAML stand for billions of values, and an alias may even contain itself,
// so the walk counts every value it visits, aliases expanded, and gives up past maxValues in
// one source: a budget per document would let many small documents add up.
const (
	maxValues = 250_000
	maxDepth  = 64
)

// decoder turns one YAML document into the JSON form of a Go type. It does what a strict JSON
// decoder would do (unknown fields and mistyped values are errors) but keeps going after each
// problem, so that one pass reports all of them, each with its field path and line. It also
// records the line of every field it saw, for the problems validation finds later.
type decoder struct {
	problems []Problem
	// lines maps a field path to the line of its key (or of its item, in a sequence).
	lines map[string]int
	// dropped holds the paths whose value was left out because it had the wrong type; the
	// zero value left in its place would only give validation problems that mislead.
	dropped map[string]bool
	budget  *budget
	// tooBig is set when this decoder ran out of budget: what it decoded is incomplete.
	tooBig bool
}

// budget is what is left of a source's maxValues, shared by its decoders.
type budget struct{ left int }

func newDecoder(b *budget) *decoder {
	return &decoder{lines: map[string]int{}, dropped: map[string]bool{}, budget: b}
}

func (d *decoder) problem(n *yaml.Node, field, format string, args ...any) {
	d.problems = append(d.problems, Problem{Field: field, Line: n.Line, Message: fmt.Sprintf(format, args...)})
}

// wrongType records that n is not what the field wants and drops the value.
func (d *decoder) wrongType(n *yaml.Node, path, want string) {
	d.dropped[path] = true
	d.problem(n, path, "expected %s, got %s", want, describe(n))
}

// enter resolves aliases and charges the value budget; it reports false when the walk must
// stop here.
func (d *decoder) enter(n *yaml.Node, path string, depth int) (*yaml.Node, bool) {
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > maxDepth {
			d.problem(n, path, "alias %q does not resolve to a value", n.Value)
			return nil, false
		}
		n = n.Alias
	}
	d.budget.left--
	if d.budget.left < 0 {
		if !d.tooBig {
			d.tooBig = true
			d.problem(n, path, "too large: more than %d values in one source once aliases are expanded", maxValues)
		}
		return nil, false
	}
	if depth > maxDepth {
		d.problem(n, path, "nested more than %d levels deep", maxDepth)
		return nil, false
	}
	return n, true
}

// value converts n to the JSON form of t. It reports false when nothing should be written for
// the field: the value was null or had a problem.
func (d *decoder) value(n *yaml.Node, t reflect.Type, path string, depth int) (any, bool) {
	n, ok := d.enter(n, path, depth)
	if !ok {
		return nil, false
	}
	if isNull(n) {
		return nil, false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	// These types have a JSON form that is not their Go structure.
	switch t {
	case reflect.TypeFor[v1alpha1.Duration]():
		if n.Kind != yaml.ScalarNode {
			d.wrongType(n, path, "a duration such as 20m")
			return nil, false
		}
		if _, err := time.ParseDuration(n.Value); err != nil {
			d.dropped[path] = true
			d.problem(n, path, "invalid duration %s (want a number with a unit, e.g. 90s, 20m or 1h30m)", quote(n.Value))
			return nil, false
		}
		return n.Value, true
	case reflect.TypeFor[time.Time](), reflect.TypeFor[v1alpha1.Time]():
		if n.Kind != yaml.ScalarNode {
			d.wrongType(n, path, "a time such as 2026-01-02T15:04:05Z")
			return nil, false
		}
		if _, err := time.Parse(time.RFC3339, n.Value); err != nil {
			d.dropped[path] = true
			d.problem(n, path, "invalid time %s (want RFC 3339, e.g. 2026-01-02T15:04:05Z)", quote(n.Value))
			return nil, false
		}
		return n.Value, true
	case reflect.TypeFor[json.RawMessage]():
		v, ok := d.any(n, path, depth)
		if !ok {
			d.dropped[path] = true
			return nil, false
		}
		raw, err := json.Marshal(v)
		if err != nil {
			d.dropped[path] = true
			d.problem(n, path, "cannot be written as JSON: %v", err)
			return nil, false
		}
		return json.RawMessage(raw), true
	}
	switch t.Kind() {
	case reflect.Struct:
		return d.object(n, t, path, depth)
	case reflect.Map:
		return d.mapping(n, t, path, depth)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.wrongType(n, path, "a sequence")
			return nil, false
		}
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.lines[p] = item.Line
			v, ok := d.value(item, t.Elem(), p, depth+1)
			if !ok {
				// A null or dropped item still holds its place, so that later indexes in
				// problems match the file.
				v = reflect.Zero(t.Elem()).Interface()
			}
			out = append(out, v)
		}
		return out, true
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.wrongType(n, path, "a string")
			return nil, false
		}
		// The text as written, whatever YAML would resolve it to: head: 12345678 is a commit,
		// not a number, and PORT: 0x1F in env is the string 0x1F.
		return n.Value, true
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.wrongType(n, path, "true or false")
			return nil, false
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.wrongType(n, path, "true or false")
			return nil, false
		}
		return b, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.wrongType(n, path, "an integer")
			return nil, false
		}
		v := reflect.New(t)
		if err := n.Decode(v.Interface()); err != nil {
			d.dropped[path] = true
			d.problem(n, path, "integer %s out of range", quote(n.Value))
			return nil, false
		}
		return v.Elem().Int(), true
	case reflect.Interface:
		return d.any(n, path, depth)
	}
	d.dropped[path] = true
	d.problem(n, path, "cannot decode into %s", t)
	return nil, false
}

// object converts a mapping to the JSON object of struct t, field by field.
func (d *decoder) object(n *yaml.Node, t reflect.Type, path string, depth int) (any, bool) {
	if n.Kind != yaml.MappingNode {
		d.wrongType(n, path, "a mapping")
		return nil, false
	}
	fields := jsonFields(t)
	out := map[string]any{}
	for _, kv := range d.pairs(n, path, depth) {
		name := kv.key.Value
		p := join(path, name)
		d.lines[p] = kv.key.Line
		ft, ok := fields[name]
		if !ok {
			d.problem(kv.key, path, "unknown field %s%s", quote(name), suggest(name, fields))
			continue
		}
		if v, ok := d.value(kv.value, ft, p, depth+1); ok {
			out[name] = v
		}
	}
	return out, true
}

// mapping converts a mapping to the JSON object of map type t.
func (d *decoder) mapping(n *yaml.Node, t reflect.Type, path string, depth int) (any, bool) {
	if n.Kind != yaml.MappingNode {
		d.wrongType(n, path, "a mapping")
		return nil, false
	}
	out := map[string]any{}
	for _, kv := range d.pairs(n, path, depth) {
		p := path + "[" + kv.key.Value + "]"
		d.lines[p] = kv.key.Line
		v, ok := d.value(kv.value, t.Elem(), p, depth+1)
		if !ok {
			v = reflect.Zero(t.Elem()).Interface()
		}
		out[kv.key.Value] = v
	}
	return out, true
}

// any converts a value of no fixed type (a compose overlay) to its natural JSON form.
func (d *decoder) any(n *yaml.Node, path string, depth int) (any, bool) {
	n, ok := d.enter(n, path, depth)
	if !ok {
		return nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		for _, kv := range d.pairs(n, path, depth) {
			p := path + "[" + kv.key.Value + "]"
			d.lines[p] = kv.key.Line
			v, ok := d.any(kv.value, p, depth+1)
			if !ok {
				return nil, false
			}
			out[kv.key.Value] = v
		}
		return out, true
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.lines[p] = item.Line
			v, ok := d.any(item, p, depth+1)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case yaml.ScalarNode:
		return d.scalar(n, path)
	}
	d.dropped[path] = true
	d.problem(n, path, "unexpected YAML node")
	return nil, false
}

// scalar converts a scalar of no fixed type to JSON: numbers and booleans keep their type, as
// docker's compose loader expects, and everything else is its text.
func (d *decoder) scalar(n *yaml.Node, path string) (any, bool) {
	switch n.ShortTag() {
	case "!!null":
		return nil, true
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, true
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			return u, true
		}
		d.dropped[path] = true
		d.problem(n, path, "integer %s out of range", quote(n.Value))
		return nil, false
	case "!!float":
		var f float64
		if err := n.Decode(&f); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, true
		}
		d.dropped[path] = true
		d.problem(n, path, "%s is not a number JSON can hold", quote(n.Value))
		return nil, false
	}
	return n.Value, true
}

type pair struct{ key, value *yaml.Node }

// pairs lists a mapping's keys and values, with YAML merge keys (<<: *defaults) expanded: keys
// written in the mapping win over merged ones, and among merged mappings the first wins. A key
// written twice is a problem, as encoding/json would silently keep the last.
func (d *decoder) pairs(n *yaml.Node, path string, depth int) []pair {
	var own, merged []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.merge(v, path, depth)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.problem(k, path, "a mapping key must be a string, got %s", describe(k))
			continue
		}
		if seen[k.Value] {
			d.problem(k, path, "duplicate field %s", quote(k.Value))
			continue
		}
		seen[k.Value] = true
		own = append(own, pair{k, v})
	}
	for _, kv := range merged {
		if !seen[kv.key.Value] {
			seen[kv.key.Value] = true
			own = append(own, kv)
		}
	}
	return own
}

// merge returns the pairs a merge key's value brings in: a mapping or a sequence of them.
func (d *decoder) merge(v *yaml.Node, path string, depth int) []pair {
	v, ok := d.enter(v, path, depth+1)
	if !ok {
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v, path, depth+1)
	case yaml.SequenceNode:
		var out []pair
		seen := map[string]bool{}
		for _, m := range v.Content {
			m, ok := d.enter(m, path, depth+1)
			if !ok {
				return out
			}
			if m.Kind != yaml.MappingNode {
				d.problem(m, path, "a merge key (<<) takes mappings, got %s", describe(m))
				continue
			}
			for _, kv := range d.pairs(m, path, depth+1) {
				if !seen[kv.key.Value] {
					seen[kv.key.Value] = true
					out = append(out, kv)
				}
			}
		}
		return out
	}
	d.problem(v, path, "a merge key (<<) takes a mapping, got %s", describe(v))
	return nil
}

// jsonFields maps the JSON names of struct t's fields to their types, following
// encoding/json: embedded structs without a name are inlined, "-" fields are skipped.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node is, for "expected X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "boolean " + n.Value
	case "!!int":
		return "integer " + clip(n.Value)
	case "!!float":
		return "number " + clip(n.Value)
	}
	return "string " + quote(n.Value)
}

// quote quotes s for a message, clipped so that one huge value cannot flood the output.
func quote(s string) string { return strconv.Quote(clip(s)) }

func clip(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// suggest offers the known field closest to a misspelt one.
func suggest(name string, fields map[string]reflect.Type) string {
	best, bestDist := "", 3
	for f := range fields {
		dist := distance(strings.ToLower(name), strings.ToLower(f))
		if dist < bestDist || (dist == bestDist && f < best) {
			best, bestDist = f, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between a and b, counted in bytes, which is enough for
// field names.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
