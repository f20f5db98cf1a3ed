package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// referenceFile is the operator's reference of the objects, relative to the module root.
const referenceFile = "docs/reference.md"

// docType is a struct type of api/v1alpha1 that docs/reference.md must document.
type docType struct {
	typ    reflect.Type
	from   string // how it is reached, e.g. Recipe.spec.checks
	fields []docField
}

// docField is one JSON field of a docType.
type docField struct {
	json   string // the JSON name
	goName string // the Go field, through embedded structs: ObjectMeta.Name
	goType string
}

// documentedTypes walks every struct type of api/v1alpha1 reachable from the three kinds and
// from Event, through pointers, slices, arrays and maps, in a stable order. Types of other
// packages (time.Time, apimachinery's Condition, Duration and Time) end the walk.
func documentedTypes() []docType {
	pkg := reflect.TypeFor[v1alpha1.Recipe]().PkgPath()
	roots := []reflect.Type{
		reflect.TypeFor[v1alpha1.Recipe](),
		reflect.TypeFor[v1alpha1.TestRun](),
		reflect.TypeFor[v1alpha1.Repository](),
		reflect.TypeFor[v1alpha1.Event](),
	}
	var (
		out   []docType
		seen  = map[reflect.Type]bool{}
		queue []docType
	)
	enqueue := func(t reflect.Type, from string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t.PkgPath() != pkg || seen[t] {
			return
		}
		seen[t] = true
		queue = append(queue, docType{typ: t, from: from})
	}
	for _, r := range roots {
		enqueue(r, r.Name())
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		d.fields = jsonFields(d.typ, "", func(f reflect.StructField, path string) {
			enqueue(f.Type, path)
		}, d.from)
		out = append(out, d)
	}
	return out
}

// jsonFields lists the JSON fields of struct type t as encoding/json names them: the json
// tag's name, the Go name without one; "-" is skipped, and an embedded struct whose tag has
// no name has its fields promoted. reach is called for every field (and embedded struct),
// with the path it is reached by.
func jsonFields(t reflect.Type, prefix string, reach func(reflect.StructField, string), from string) []docField {
	var out []docField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			reach(f, from)
			out = append(out, jsonFields(ft, prefix+f.Name+".", reach, from)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		reach(f, from+"."+name)
		out = append(out, docField{json: name, goName: prefix + f.Name, goType: f.Type.String()})
	}
	return out
}

// refSection is a "### `Type`" section of the reference with its table.
type refSection struct {
	line int
	rows map[string]refRow // by the field name in the first cell, without backquotes
	// order keeps the rows in the order they appear.
	order []string
}

// refRow is one row of a section's table.
type refRow struct {
	line          int
	typ, meaning  string
	firstCellText string
}

var (
	headingRE   = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*$`)
	typeTitleRE = regexp.MustCompile("^`([A-Za-z0-9_]+)`$")
	fieldCellRE = regexp.MustCompile("^`([^`]+)`$")
)

// typeSections parses the "### `Type`" sections of the reference: each runs to the next
// heading of level 3 or above, and its table rows are read by their first cell.
func typeSections(t *testing.T, doc string) map[string]*refSection {
	t.Helper()
	sections := map[string]*refSection{}
	var cur *refSection
	for i, line := range strings.Split(doc, "\n") {
		n := i + 1
		if m := headingRE.FindStringSubmatch(line); m != nil {
			if len(m[1]) > 3 {
				continue
			}
			cur = nil
			if len(m[1]) == 3 {
				if tm := typeTitleRE.FindStringSubmatch(m[2]); tm != nil {
					if prev, ok := sections[tm[1]]; ok {
						t.Errorf("%s:%d: a second section ### `%s` (the first is at line %d): keep one and merge their tables", referenceFile, n, tm[1], prev.line)
						continue
					}
					cur = &refSection{line: n, rows: map[string]refRow{}}
					sections[tm[1]] = cur
				}
			}
			continue
		}
		if cur == nil || !strings.HasPrefix(strings.TrimSpace(line), "|") {
			continue
		}
		cells := tableCells(line)
		if len(cells) == 0 || cells[0] == "field" || strings.Trim(cells[0], "-: ") == "" {
			continue // the header and the separator
		}
		r := refRow{line: n, firstCellText: cells[0]}
		if len(cells) > 1 {
			r.typ = cells[1]
		}
		if len(cells) > 2 {
			r.meaning = cells[2]
		}
		key := cells[0]
		if m := fieldCellRE.FindStringSubmatch(key); m != nil {
			key = m[1]
		}
		if _, dup := cur.rows[key]; dup {
			t.Errorf("%s:%d: a second row for %s in its section: keep one", referenceFile, n, cells[0])
			continue
		}
		cur.rows[key] = r
		cur.order = append(cur.order, key)
	}
	return sections
}

// tableCells splits a Markdown table row into its trimmed cells; "\|" stays inside a cell.
func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	if strings.HasSuffix(line, "|") && !strings.HasSuffix(line, `\|`) {
		line = line[:len(line)-1]
	}
	var (
		cells []string
		b     strings.Builder
	)
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			b.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(b.String()))
			b.Reset()
		default:
			b.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(b.String()))
}

func readReference(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../..", filepath.FromSlash(referenceFile)))
	if err != nil {
		t.Fatalf("the operator's reference is missing: %v", err)
	}
	return string(b)
}

// docs/reference.md documents every JSON field of every struct type of api/v1alpha1 that a
// Recipe, a TestRun, a Repository or an Event holds: each type has a "### `Type`" section
// whose table has a row per JSON field, the field's name backquoted in the first cell, its
// type in the second and what it means in the third. A field added to the Go types without a
// row, or a row left behind for a field that is gone, fails here.
func TestReferenceDocumentsEveryField(t *testing.T) {
	types := documentedTypes()
	// The walk itself must not have come apart: these are deep in the tree.
	found := map[string]bool{}
	for _, d := range types {
		found[d.typ.Name()] = true
	}
	for _, name := range []string{"TypeMeta", "ObjectMeta", "HTTPCheck", "ServiceConvergence", "CheckResult", "PullRequestRecord", "ObjectReference"} {
		if !found[name] {
			t.Fatalf("the walk of api/v1alpha1 from Recipe, TestRun, Repository and Event did not reach %s: the test is broken", name)
		}
	}
	sections := typeSections(t, readReference(t))
	for _, d := range types {
		name := d.typ.Name()
		s, ok := sections[name]
		if !ok {
			var rows []string
			for _, f := range d.fields {
				rows = append(rows, "`"+f.json+"`")
			}
			t.Errorf("%s has no section for v1alpha1.%s (reached from %s): add a heading \"### `%s`\" under its kind, one sentence on what it is, and a table \"| field | type | meaning |\" with a row for each of its JSON fields: %s",
				referenceFile, name, d.from, name, strings.Join(rows, ", "))
			continue
		}
		want := map[string]bool{}
		for _, f := range d.fields {
			want[f.json] = true
			r, ok := s.rows[f.json]
			where := fmt.Sprintf("%s:%d, section ### `%s`", referenceFile, s.line, name)
			switch {
			case !ok:
				t.Errorf("%s: no row for the JSON field `%s` (Go field %s.%s, %s): add the row \"| `%s` | <type> | <meaning: default, allowed values, units, who writes it and when> |\" to its table",
					where, f.json, name, f.goName, f.goType, f.json)
			case strings.TrimSpace(r.meaning) == "":
				t.Errorf("%s:%d: the row of `%s` (Go field %s.%s) has no meaning: write in its third cell what the field means (default, allowed values, units, who writes it and when)",
					referenceFile, r.line, f.json, name, f.goName)
			case strings.TrimSpace(r.typ) == "":
				t.Errorf("%s:%d: the row of `%s` (Go field %s.%s, %s) has no type: write its JSON type in the second cell",
					referenceFile, r.line, f.json, name, f.goName, f.goType)
			case !fieldCellRE.MatchString(r.firstCellText):
				t.Errorf("%s:%d: the first cell of the row of %s must be the JSON name in backquotes: write `%s`",
					referenceFile, r.line, r.firstCellText, f.json)
			}
		}
		for _, key := range s.order {
			if !want[key] {
				t.Errorf("%s:%d: section ### `%s` has a row for %s, which is not a JSON field of v1alpha1.%s: remove the row, or fix its name",
					referenceFile, s.rows[key].line, name, s.rows[key].firstCellText, name)
			}
		}
	}
}

// conditionConstant is a Condition* or Reason* constant of api/v1alpha1/conditions.go.
type conditionConstant struct {
	name, value string
	line        int
}

// conditionConstants parses the condition types and reasons of api/v1alpha1/conditions.go
// with their string values.
func conditionConstants(t *testing.T) []conditionConstant {
	t.Helper()
	const file = "../../api/v1alpha1/conditions.go"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var out []conditionConstant
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Condition") && !strings.HasPrefix(n.Name, "Reason") {
					continue
				}
				line := fset.Position(n.Pos()).Line
				var lit *ast.BasicLit
				if i < len(vs.Values) {
					lit, _ = vs.Values[i].(*ast.BasicLit)
				}
				if lit == nil || lit.Kind != token.STRING {
					t.Errorf("api/v1alpha1/conditions.go:%d: v1alpha1.%s is not a string literal, so its value cannot be checked against %s: write it as one", line, n.Name, referenceFile)
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, conditionConstant{name: n.Name, value: v, line: line})
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("found %d condition types and reasons in api/v1alpha1/conditions.go: the parse missed them", len(out))
	}
	return out
}

// Every condition type and reason of api/v1alpha1/conditions.go appears, backquoted, in the
// reference's "Conditions and reasons" section, where an operator looks up what a reason on
// a run means and whether it ended the run.
func TestReferenceDocumentsEveryConditionAndReason(t *testing.T) {
	const title = "## Conditions and reasons"
	doc := readReference(t)
	i := strings.Index(doc, "\n"+title+"\n")
	if i < 0 {
		t.Fatalf("%s has no section %q: add it, with a table per kind of the condition types and of the reasons (their string values in backquotes), saying when each is set, what it means, and which reasons end a run (final) and which are transient", referenceFile, title)
	}
	section := doc[i+1:]
	if j := strings.Index(section[len(title):], "\n## "); j >= 0 {
		section = section[:len(title)+j+1]
	}
	line := strings.Count(doc[:i+1], "\n") + 1
	for _, c := range conditionConstants(t) {
		if !strings.Contains(section, "`"+c.value+"`") {
			t.Errorf("%s:%d, section %q: `%s` (v1alpha1.%s, api/v1alpha1/conditions.go:%d) is not mentioned: add it, backquoted, to the table of its condition or reason group, with when it is set, what it means, and whether it ends a run (final) or is transient",
				referenceFile, line, title, c.value, c.name, c.line)
		}
	}
}
