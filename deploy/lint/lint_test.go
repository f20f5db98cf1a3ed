package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/deploy/render"
)

func renderCompose(t *testing.T, compose string) *render.Stack {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := render.Render(t.Context(), render.Options{Stack: "lt", Dir: dir, Files: []string{"compose.yml"}, Env: map[string]string{"STACK_NAME": "lt"}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

const clean = `
version: "3.8"
services:
  app:
    image: swarmrun-probe:1
    healthcheck: {test: ["CMD", "/probe", "-health"]}
    secrets: [db_password]
    deploy:
      labels: ["coop-cloud.${STACK_NAME}.version=1.0.0+1"]
      update_config: {failure_action: rollback}
secrets:
  db_password:
    name: ${STACK_NAME}_db_password_v1
    file: pw
`

func TestCleanRecipeHasNoFindings(t *testing.T) {
	if f := Run(Input{Stack: renderCompose(t, clean)}); len(f) != 0 {
		t.Fatalf("findings on a clean recipe: %v", f)
	}
}

func TestFindings(t *testing.T) {
	st := renderCompose(t, `
version: "3.8"
services:
  app:
    image: swarmrun-probe
    secrets: [db_password]
  worker:
    image: swarmrun-probe:latest
    healthcheck: {disable: true}
    deploy:
      update_config: {failure_action: pause}
secrets:
  db_password:
    file: pw
`)
	got := Run(Input{Stack: st})
	var lines []string
	for _, f := range got {
		lines = append(lines, f.Rule+" "+f.Object)
	}
	want := []string{
		"R001 app", "R001 worker",
		"R002 app", "R002 worker",
		"R003 app",
		"R004 secret lt_db_password",
		"R005 app",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if Passed(got) {
		t.Error("error findings must fail the lint rung")
	}
	if !Passed([]Finding{{Rule: "R002", Severity: Warning}}) {
		t.Error("warnings alone must pass the lint rung")
	}
}

func TestRuleIDsUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] || r.Summary == "" || r.check == nil {
			t.Errorf("rule %q duplicated or incomplete", r.ID)
		}
		seen[r.ID] = true
	}
}
