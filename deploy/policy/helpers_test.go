package policy

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/swarmrun/swarmrun/deploy/render"
)

// testStack is the stack name every test renders into; its namespace is "pol_".
const testStack = "pol"

// renderCompose renders testdata/compose/<file> with docker's loader and converter, as a
// deploy would, with STACK_NAME set as the pipeline sets it.
func renderCompose(t *testing.T, file string) *render.Stack {
	t.Helper()
	st, err := render.Render(t.Context(), render.Options{
		Stack: testStack,
		Dir:   composeDir(t),
		Files: []string{file},
		Env:   map[string]string{"STACK_NAME": testStack},
	})
	if err != nil {
		t.Fatalf("render %s: %v", file, err)
	}
	return st
}

// provide generates a value for every external secret of st that keep does not keep
// external, as the pipeline does for a run before it applies (reconcile/stacks.go:
// generateSecrets over st.ExternalSecrets).
func provide(t *testing.T, st *render.Stack, keep func(string) bool) {
	t.Helper()
	values := map[string][]byte{}
	for _, name := range st.ExternalSecrets {
		if !keep(name) {
			values[name] = []byte("generated-" + name)
		}
	}
	if err := st.ProvideSecrets(values, map[string]string{"swarmrun.dev/managed-by": "swarmrun"}); err != nil {
		t.Fatalf("provide secrets: %v", err)
	}
}

func composeDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "compose"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// keys are violations as "service|field|subject|rule", the parts a test pins down. A rule
// that Rules does not list is an error: every ID an operator sees must be documented.
func keys(r interface{ Errorf(string, ...any) }, vs []Violation) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if !slices.Contains(Rules(), v.Rule) {
			r.Errorf("violation %s has a rule that Rules() does not list", v)
		}
		out = append(out, fmt.Sprintf("%s|%s|%s|%s", v.Service, v.Field, v.Subject, v.Rule))
	}
	return out
}
