package spec

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

func TestReadRecipeTests(t *testing.T) {
	good := `apiVersion: swarmrun.dev/v1alpha1
kind: RecipeTests
checks:
  install:
    - name: home
      http: {service: app, port: 8080, path: /healthz}
  upgrade:
    after:
      - name: version
        http: {service: app, port: 8080, path: /version, contains: "2"}
  custom:
    - name: smoke
      exec: {service: app, command: [/probe, -version]}
`
	got, err := ReadRecipeTests("tests/swarmrun.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := v1alpha1.Checks{
		Install: []v1alpha1.Check{{Name: "home", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/healthz"}}},
		Upgrade: v1alpha1.UpgradeChecks{After: []v1alpha1.Check{{Name: "version", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080, Path: "/version", Contains: "2"}}}},
		Custom:  []v1alpha1.Check{{Name: "smoke", Exec: &v1alpha1.ExecCheck{Service: "app", Command: []string{"/probe", "-version"}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("checks = %+v\nwant %+v", got, want)
	}

	tests := []struct {
		name, data string
		want       []string
	}{
		{"empty", "", []string{"tests/swarmrun.yaml: empty: want apiVersion swarmrun.dev/v1alpha1, kind RecipeTests and checks"}},
		{"not yaml", "checks: [", []string{"tests/swarmrun.yaml:1: invalid YAML"}},
		{"two documents", "apiVersion: swarmrun.dev/v1alpha1\nkind: RecipeTests\n---\nx: 1\n", []string{"tests/swarmrun.yaml:3: one document only"}},
		{"a list", "- name: x\n", []string{"tests/swarmrun.yaml:1: expected a mapping with apiVersion, kind and checks, got a sequence"}},
		{"kind and version", "apiVersion: v1\nkind: Recipe\nchecks: {}\n", []string{
			`tests/swarmrun.yaml:1: apiVersion: unsupported apiVersion "v1" (want swarmrun.dev/v1alpha1)`,
			`tests/swarmrun.yaml:2: kind: kind "Recipe" (want RecipeTests)`}},
		{"unknown field and bad check", `apiVersion: swarmrun.dev/v1alpha1
kind: RecipeTests
checks:
  custom:
    - name: Bad_Name
      http: {service: app, port: 0}
      exec: {service: app, command: [x]}
  backup:
    - name: b
      job: {image: x, comand: [y]}
`, []string{
			`tests/swarmrun.yaml:5: checks.custom[0].name: "Bad_Name" is not a DNS label`,
			"tests/swarmrun.yaml:5: checks.custom[0]: exactly one of http, exec or job is allowed, got http and exec",
			"tests/swarmrun.yaml:6: checks.custom[0].http.port: required: the port the service listens on",
			`tests/swarmrun.yaml:10: checks.backup[0].job: unknown field "comand" (did you mean "command"?)`}},
		{"a key twice", "apiVersion: swarmrun.dev/v1alpha1\nkind: RecipeTests\nchecks: {}\nchecks: {}\n", []string{`tests/swarmrun.yaml:4: duplicate field "checks"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadRecipeTests("tests/swarmrun.yaml", []byte(tt.data))
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("problems:\n%s\nlack %q", msg, w)
				}
			}
		})
	}
}

// FuzzReadRecipeTests: whatever a head ships, reading it ends with checks or an *Error of
// problems that each name the file, never a panic.
func FuzzReadRecipeTests(f *testing.F) {
	f.Add([]byte("apiVersion: swarmrun.dev/v1alpha1\nkind: RecipeTests\nchecks: {custom: [{name: a, exec: {service: app, command: [x]}}]}\n"))
	f.Add([]byte("checks: [\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ReadRecipeTests("t.yaml", data)
		if err == nil {
			return
		}
		var perr *Error
		if !errors.As(err, &perr) || len(perr.Problems) == 0 {
			t.Fatalf("error %v (%T) is not an *Error with problems", err, err)
		}
		for _, p := range perr.Problems {
			if p.File != "t.yaml" || p.Message == "" {
				t.Fatalf("problem %+v lacks its file or message", p)
			}
		}
	})
}
