package spec

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

func TestCheckJSON(t *testing.T) {
	const head = `"apiVersion":"swarmrun.dev/v1alpha1","kind":"TestRun","metadata":{"name":"a"}`
	tests := []struct {
		name, json string
		typ        reflect.Type
		want       []string // every problem, as Problem.String writes it; none for good JSON
	}{
		{"good", `{` + head + `,"spec":{"recipe":"r","env":{"A":"1","a":"2"},"timeout":"1m"},"status":{"conditions":[{"type":"Succeeded","status":"True","lastTransitionTime":"2026-01-02T15:04:05Z","reason":"Succeeded","message":"ok"}]}}`,
			reflect.TypeFor[v1alpha1.TestRun](), nil},
		{"duplicates at every depth", `{` + head + `,"kind":"TestRun","spec":{"recipe":"r","recipe":"s","env":{"A":"1","A":"2"}}}`,
			reflect.TypeFor[v1alpha1.TestRun](), []string{`duplicate field "kind"`, `spec: duplicate field "recipe"`, `spec.env: duplicate field "A"`}},
		{"case variant of a field", `{` + head + `,"Spec":{"recipe":"r"}}`,
			reflect.TypeFor[v1alpha1.TestRun](), []string{`unknown field "Spec" (did you mean "spec"?)`}},
		{"overlay items are scopes of their own", `{"spec":{"source":{"url":"/x"},"overlays":[{"services":{"a":{}}},{"services":{"a":{},"a":{}}}],"previous":{"version":"1","env":{"X":"1","X":"2"}}}}`,
			reflect.TypeFor[v1alpha1.Recipe](), []string{`spec.overlays[1][services]: duplicate field "a"`, `spec.previous.env: duplicate field "X"`}},
		{"checks in a list", `{"spec":{"source":{"url":"/x"},"checks":{"install":[{"name":"a","http":{"service":"s","port":1}},{"name":"b","http":{"service":"s","service":"t","port":1}}]}}}`,
			reflect.TypeFor[v1alpha1.Recipe](), []string{`spec.checks.install[1].http: duplicate field "service"`}},
		{"escaped key is the same key", `{"spec":{"recipe":"r","rec\u0069pe":"s"}}`,
			reflect.TypeFor[v1alpha1.TestRun](), []string{`spec: duplicate field "recipe"`}},
		{"malformed is left to the decoder", `{"spec":{"recipe":`, reflect.TypeFor[v1alpha1.TestRun](), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckJSON([]byte(tt.json), tt.typ)
			var got []string
			var se *Error
			if errors.As(err, &se) {
				for _, p := range se.Problems {
					got = append(got, p.String())
				}
			} else if err != nil {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReadJSONDuplicateKeys: a JSON file (apply -f x.json) with a key written twice is refused
// like YAML, with the file, the key and its path.
func TestReadJSONDuplicateKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.json")
	body := `{"apiVersion":"swarmrun.dev/v1alpha1","kind":"TestRun","metadata":{"name":"a"},` + "\n" +
		`"spec":{"recipe":"r","env":{"A":"1","A":"2"},"recipe":"s"}}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	docs, err := ReadFile(path)
	var se *Error
	if !errors.As(err, &se) || len(docs) != 0 {
		t.Fatalf("ReadFile = %d documents, %v; want an *Error", len(docs), err)
	}
	for _, want := range []string{path + `:2: spec.env: duplicate field "A"`, path + `:2: spec: duplicate field "recipe"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
}
