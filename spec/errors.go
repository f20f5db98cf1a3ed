package spec

import (
	"strconv"
	"strings"
)

// Problem is one thing wrong with a spec: where it is and what is wrong.
type Problem struct {
	// File is the source the object came from: a path, or "<stdin>". Empty for objects that
	// did not come from a file (an API request).
	File string
	// Doc is the document's position in its file, counting from 1; 0 when unknown.
	Doc int
	// Object names the object as kind/name in lower case (testrun/discourse-pr4), or only
	// the kind while the name is unknown.
	Object string
	// Field is the field path (spec.stages[2], metadata.labels[tier]); empty for a problem
	// with the whole document.
	Field string
	// Line is the line in File, counting from 1; 0 when the YAML does not give one.
	Line int
	// Message says what is wrong and, where it helps, what is wanted.
	Message string
}

// String formats p as file:line: field: message, falling back to the object's name or the
// document's number where no line is known:
//
//	testrun.yaml:14: spec.stages[2]: unknown stage "instal" (want one of install, ...)
//	testrun.yaml: testrun/pr4: spec.recipe: required: the name of a Recipe
//	testrun/pr4: spec.recipe: required: the name of a Recipe
func (p Problem) String() string {
	var parts []string
	switch {
	case p.File != "" && p.Line > 0:
		parts = append(parts, p.File+":"+strconv.Itoa(p.Line))
	case p.File != "":
		parts = append(parts, p.File)
	}
	if p.Line == 0 {
		switch {
		case p.Object != "":
			parts = append(parts, p.Object)
		case p.Doc > 0:
			parts = append(parts, "doc "+strconv.Itoa(p.Doc))
		}
	}
	if p.Field != "" {
		parts = append(parts, p.Field)
	}
	return strings.Join(append(parts, p.Message), ": ")
}

// Error is every problem found in a set of specs. Callers detect it with errors.As to tell
// bad input (the command line exits 2 and stores nothing) from a failure to read.
type Error struct {
	Problems []Problem
}

// Error lists the problems, one a line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
