package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"

	yaml "go.yaml.in/yaml/v3"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// ReadRecipeTests reads the checks a recipe repository ships (v1alpha1.RecipeTestsFile), as
// strictly as an object spec: one YAML document, apiVersion swarmrun.dev/v1alpha1, kind
// RecipeTests, and checks in the form of a Recipe's spec.checks; an unknown field, a key
// written twice, a value of the wrong type or an invalid check is a problem with its line
// and field path (checks.custom[0].http.port). name is the file's name in the problems. The
// file comes from a head nobody vetted, so the same value budget as for any spec applies.
func ReadRecipeTests(name string, data []byte) (v1alpha1.Checks, error) {
	fail := func(problems ...Problem) (v1alpha1.Checks, error) {
		for i := range problems {
			problems[i].File = name
		}
		return v1alpha1.Checks{}, &Error{Problems: problems}
	}
	if len(data) > MaxSize {
		return fail(Problem{Message: fmt.Sprintf("larger than %d MiB", MaxSize>>20)})
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	if err := dec.Decode(&n); errors.Is(err, io.EOF) {
		return fail(Problem{Message: "empty: want apiVersion " + v1alpha1.APIVersion + ", kind " + v1alpha1.KindRecipeTests + " and checks"})
	} else if err != nil {
		line, msg := syntaxError(err)
		return fail(Problem{Line: line, Message: "invalid YAML: " + msg})
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fail(Problem{Line: extra.Line, Message: "one document only: the checks of every tier go in one"})
	}
	root := n.Content[0]
	for root.Kind == yaml.AliasNode && root.Alias != nil {
		root = root.Alias
	}
	if root.Kind != yaml.MappingNode {
		return fail(Problem{Line: root.Line, Message: "expected a mapping with apiVersion, kind and checks, got " + describe(root)})
	}
	problems := apiVersion(root, "")
	switch kind := field(root, "kind"); {
	case kind == nil:
		problems = append(problems, Problem{Field: "kind", Line: root.Line, Message: "required (want " + v1alpha1.KindRecipeTests + ")"})
	case kind.Kind != yaml.ScalarNode || kind.Value != v1alpha1.KindRecipeTests:
		problems = append(problems, Problem{Field: "kind", Line: kind.Line, Message: fmt.Sprintf("kind %s (want %s)", shown(kind), v1alpha1.KindRecipeTests)})
	}
	d := newDecoder(&budget{left: maxValues})
	var rt v1alpha1.RecipeTests
	if v, ok := d.value(root, reflect.TypeFor[v1alpha1.RecipeTests](), "", 0); ok {
		raw, err := json.Marshal(v)
		if err == nil {
			jd := json.NewDecoder(bytes.NewReader(raw))
			jd.DisallowUnknownFields()
			err = jd.Decode(&rt)
		}
		if err != nil {
			d.problem(root, "", "cannot decode: %v", err)
		}
	}
	problems = append(problems, d.problems...)
	if !d.tooBig {
		v := &validator{}
		v.checkTiers("checks", rt.Checks, nil)
		for _, p := range v.problems {
			if d.hides(p.Field) {
				continue
			}
			p.Line = d.line(p.Field, root.Line)
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b Problem) int { return a.Line - b.Line })
		return fail(problems...)
	}
	return rt.Checks, nil
}
