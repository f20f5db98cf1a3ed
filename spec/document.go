package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// document decodes, defaults and validates one YAML document: an object, or a list of them
// as `swarmrun get -o yaml` prints (kind RecipeList, TestRunList or List, with items). It
// returns nothing for an empty document.
func document(name string, index int, n *yaml.Node, b *budget) ([]Document, []Problem) {
	if n.Kind != yaml.DocumentNode || len(n.Content) == 0 || isNull(n.Content[0]) {
		return nil, nil
	}
	root := n.Content[0]
	var (
		docs     []Document
		problems []Problem
	)
	if root.Kind != yaml.MappingNode {
		problems = []Problem{{Line: root.Line, Message: "a document must be a mapping with apiVersion and kind, got " + describe(root)}}
	} else if items, itemKind, ps, isList := list(root, b); isList {
		problems = ps
		for i, item := range items {
			obj, ps := decodeObject(item, fmt.Sprintf("items[%d]", i), itemKind, b)
			problems = append(problems, ps...)
			if obj != nil && len(ps) == 0 {
				docs = append(docs, Document{Source: name, Index: index, Line: item.Line, Object: obj})
			}
		}
	} else {
		obj, ps := decodeObject(root, "", "", b)
		problems = ps
		if obj != nil && len(ps) == 0 {
			docs = []Document{{Source: name, Index: index, Line: root.Line, Object: obj}}
		}
	}
	slices.SortStableFunc(problems, func(a, b Problem) int { return a.Line - b.Line })
	for i := range problems {
		problems[i].File, problems[i].Doc = name, index
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return docs, nil
}

// list recognises a list document and returns its items and the kind they default to ("" for
// a plain List, whose items must each say their kind). isList is false for anything else.
func list(root *yaml.Node, b *budget) (items []*yaml.Node, itemKind string, problems []Problem, isList bool) {
	kind := ""
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k, v := root.Content[i], root.Content[i+1]; k.Value == "kind" && v.Kind == yaml.ScalarNode {
			kind = v.Value
			break
		}
	}
	itemKind, isList = strings.CutSuffix(kind, "List")
	if !isList || (itemKind != "" && !slices.Contains(v1alpha1.Kinds(), itemKind)) {
		return nil, "", nil, false
	}
	problems = apiVersion(root, "")
	d := newDecoder(b)
	for _, kv := range d.pairs(root, "", 0) {
		switch kv.key.Value {
		case "apiVersion", "kind":
		case "metadata":
			d.value(kv.value, reflect.TypeFor[v1alpha1.ListMeta](), "metadata", 1)
		case "items":
			switch v := kv.value; {
			case isNull(v):
			case v.Kind != yaml.SequenceNode:
				d.wrongType(v, "items", "a sequence")
			default:
				items = v.Content
			}
		default:
			d.problem(kv.key, "", "unknown field %s (a %s has apiVersion, kind, metadata and items)", quote(kv.key.Value), kind)
		}
	}
	return items, itemKind, append(problems, d.problems...), true
}

// decodeObject decodes, defaults and validates one object at path prefix ("" for a whole
// document, items[2] in a list). impliedKind is the kind of an object that does not say.
func decodeObject(root *yaml.Node, prefix, impliedKind string, b *budget) (v1alpha1.Object, []Problem) {
	for root.Kind == yaml.AliasNode && root.Alias != nil {
		root = root.Alias
	}
	if root.Kind != yaml.MappingNode {
		return nil, []Problem{{Field: prefix, Line: root.Line, Message: "expected a mapping with apiVersion and kind, got " + describe(root)}}
	}
	obj, problems := newObject(root, prefix, impliedKind)
	if obj == nil {
		return nil, problems
	}
	d := newDecoder(b)
	// What decoded is kept even when other fields had problems, so that validation sees the
	// rest of the object; the problems of dropped values are left out below.
	if v, ok := d.value(root, reflect.TypeOf(obj).Elem(), prefix, 0); ok {
		raw, err := json.Marshal(v)
		if err == nil {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			err = dec.Decode(obj)
		}
		if err != nil {
			// The walk above accepts only what decodes; this is a bug, but a clear one.
			d.problem(root, prefix, "cannot decode: %v", err)
		}
	}
	problems = append(problems, d.problems...)
	ClearStatus(obj)
	if o, ok := obj.(interface{ Default() }); ok {
		o.Default()
	}
	for _, p := range Validate(obj) {
		p.Field = join(prefix, p.Field)
		if d.tooBig || d.hides(p.Field) {
			continue
		}
		p.Line = d.line(p.Field, root.Line)
		problems = append(problems, p)
	}
	for i := range problems {
		problems[i].Object = objectName(obj)
	}
	return obj, problems
}

// newObject reads apiVersion and kind, which say what the rest of the object must be.
func newObject(root *yaml.Node, prefix, impliedKind string) (v1alpha1.Object, []Problem) {
	problems := apiVersion(root, prefix)
	if impliedKind != "" && len(problems) > 0 && field(root, "apiVersion") == nil {
		problems = nil // a typed list's items may leave out what the list says
	}
	want := "want one of " + strings.Join(v1alpha1.Kinds(), ", ")
	var obj v1alpha1.Object
	switch kind := field(root, "kind"); {
	case kind == nil && impliedKind != "":
		obj, _ = v1alpha1.New(impliedKind)
	case kind == nil:
		problems = append(problems, Problem{Field: join(prefix, "kind"), Line: root.Line, Message: "required (" + want + ")"})
	case impliedKind != "" && kind.Value != impliedKind:
		problems = append(problems, Problem{Field: join(prefix, "kind"), Line: kind.Line,
			Message: fmt.Sprintf("kind %s in a list of %s", shown(kind), impliedKind)})
	default:
		o, err := v1alpha1.New(kind.Value)
		if err != nil || kind.Kind != yaml.ScalarNode {
			problems = append(problems, Problem{Field: join(prefix, "kind"), Line: kind.Line,
				Message: fmt.Sprintf("unknown kind %s (%s)", shown(kind), want)})
		}
		obj = o
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return obj, nil
}

// apiVersion checks a mapping's apiVersion.
func apiVersion(root *yaml.Node, prefix string) []Problem {
	switch v := field(root, "apiVersion"); {
	case v == nil:
		return []Problem{{Field: join(prefix, "apiVersion"), Line: root.Line, Message: "required (want " + v1alpha1.APIVersion + ")"}}
	case v.Kind != yaml.ScalarNode || v.Value != v1alpha1.APIVersion:
		return []Problem{{Field: join(prefix, "apiVersion"), Line: v.Line,
			Message: fmt.Sprintf("unsupported apiVersion %s (want %s)", shown(v), v1alpha1.APIVersion)}}
	}
	return nil
}

// field returns the value of a mapping's key, or nil.
func field(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// shown is a scalar's text quoted, or what the node is.
func shown(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return quote(n.Value)
	}
	return describe(n)
}

// ClearStatus drops an object's status. Status belongs to the controllers: a file or a client
// that sends one (say, `get -o yaml` output applied back) must not set it.
func ClearStatus(obj v1alpha1.Object) {
	switch o := obj.(type) {
	case *v1alpha1.Recipe:
		o.Status = v1alpha1.RecipeStatus{}
	case *v1alpha1.TestRun:
		o.Status = v1alpha1.TestRunStatus{}
	case *v1alpha1.Repository:
		o.Status = v1alpha1.RepositoryStatus{}
	}
}

// hides reports whether a problem at field only follows from a value the decoder dropped.
func (d *decoder) hides(field string) bool {
	for p := field; p != ""; p = parent(p) {
		if d.dropped[p] {
			return true
		}
	}
	return false
}

// line finds the line of field, or of its nearest ancestor that the document has (a missing
// required field points at the mapping that lacks it).
func (d *decoder) line(field string, fallback int) int {
	for p := field; p != ""; p = parent(p) {
		if l, ok := d.lines[p]; ok {
			return l
		}
	}
	return fallback
}

// parent strips the last step of a field path: spec.stages[2] → spec.stages → spec → "".
func parent(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndex(path, "["); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexAny(path, ".]"); i >= 0 {
		if path[i] == ']' {
			return path[:i+1]
		}
		return path[:i]
	}
	return ""
}
