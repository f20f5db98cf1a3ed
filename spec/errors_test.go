package spec

import (
	"errors"
	"fmt"
	"testing"
)

func TestProblemString(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"file and line", Problem{File: "testrun.yaml", Doc: 1, Object: "testrun/pr4", Field: "spec.stages[2]", Line: 14, Message: `unknown stage "instal"`},
			`testrun.yaml:14: spec.stages[2]: unknown stage "instal"`},
		{"no line: the object", Problem{File: "testrun.yaml", Doc: 2, Object: "testrun/pr4", Field: "spec.recipe", Message: "required: the name of a Recipe"},
			"testrun.yaml: testrun/pr4: spec.recipe: required: the name of a Recipe"},
		{"no line, no object: the document", Problem{File: "all.yaml", Doc: 2, Message: "invalid YAML: control characters are not allowed"},
			"all.yaml: doc 2: invalid YAML: control characters are not allowed"},
		{"no file: an API object", Problem{Object: "recipe/demo", Field: "spec.source.url", Message: "required: a git URL or a local path"},
			"recipe/demo: spec.source.url: required: a git URL or a local path"},
		{"no field", Problem{File: "x.yaml", Line: 3, Message: "a document must be a mapping"},
			"x.yaml:3: a document must be a mapping"},
		{"only a message", Problem{Message: "unsupported object"}, "unsupported object"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%s: String() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestErrorListsEveryProblem(t *testing.T) {
	err := fmt.Errorf("apply: %w", &Error{Problems: []Problem{
		{File: "a.yaml", Line: 1, Message: "one"},
		{File: "b.yaml", Line: 2, Field: "spec", Message: "two"},
	}})
	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatal("a wrapped *Error is not found by errors.As")
	}
	if got, want := perr.Error(), "a.yaml:1: one\nb.yaml:2: spec: two"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
