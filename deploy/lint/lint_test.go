package lint

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/render"
)

// recipeInput writes files into a recipe directory, renders it as a deploy reads it (its
// env, STACK_NAME lt, its COMPOSE_FILE) and returns the lint input with tags.
func recipeInput(t *testing.T, files map[string]string, tags []recipe.Tag) Input {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env, err := recipe.LoadEnv(dir)
	if err != nil {
		t.Fatal(err)
	}
	vars, err := env.Resolve(map[string]string{"STACK_NAME": "lt", "DOMAIN": "lt.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	composeFiles, err := recipe.ComposeFiles(vars, dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := render.Render(t.Context(), render.Options{Stack: "lt", Dir: dir, Files: composeFiles, Env: vars})
	if err != nil {
		t.Fatal(err)
	}
	return Input{Stack: st, Dir: dir, Env: env, Tags: tags}
}

// clean is a recipe every rule is satisfied with.
func clean() map[string]string {
	return map[string]string{
		"README.md":   "# clean\n\n<!-- metadata -->\n* **Category**: Apps\n* **Status**: 1\n* **Healthcheck**: Yes\n<!-- endmetadata -->\n",
		".env.sample": "DOMAIN=clean.example.org\nSECRET_DB_PASSWORD_VERSION=v1 # length=32\n",
		"abra.sh":     "export APP_CONF_VERSION=v2\n",
		"app.conf":    "x\n",
		"compose.yml": `version: "3.8"
services:
  app:
    image: swarmrun-probe:1.2.3
    healthcheck: {test: ["CMD", "/probe", "-health"]}
    secrets: [db_password]
    configs: [app_conf]
    deploy:
      labels: ["traefik.enable=true"]
secrets:
  db_password:
    external: true
    name: ${STACK_NAME}_db_password_${SECRET_DB_PASSWORD_VERSION}
configs:
  app_conf:
    name: ${STACK_NAME}_app_conf_${APP_CONF_VERSION}
    file: app.conf
`,
	}
}

var releaseTags = []recipe.Tag{{Name: "1.0.0+1.2.3", Annotated: true}, {Name: "wip"}}

// outcome is a compact view of results: failed refs with objects, and skipped refs.
func outcome(results []Result) (failed, skipped []string) {
	for _, r := range results {
		switch {
		case r.Skipped != "":
			skipped = append(skipped, r.Rule.Ref)
		case !r.Satisfied:
			for _, f := range r.Findings {
				failed = append(failed, r.Rule.Ref+" "+f.Object)
			}
		}
	}
	return failed, skipped
}

func TestCleanRecipeSatisfiesEveryRule(t *testing.T) {
	failed, skipped := outcome(Check(recipeInput(t, clean(), releaseTags)))
	if len(failed) != 0 || strings.Join(skipped, ",") != "R013" {
		t.Errorf("failed %v, skipped %v; want none, and R013 (offline)", failed, skipped)
	}
}

func TestFindings(t *testing.T) {
	files := map[string]string{
		"README.md":   "# broken\n\n<!-- metadata -->\n* **Category**: Apps\n* **Backups**:\n<!-- endmetadata -->\n",
		".env.sample": "DOMAIN=broken.example.org\n",
		"app.conf":    "x\n",
		"compose.yml": `version: "3.7"
services:
  web:
    image: swarmrun-probe
    configs: [app_conf]
    secrets: [very_long_secret_key]
  worker:
    image: swarmrun-probe:latest
    healthcheck: {disable: true}
  cron:
    image: swarmrun-probe:nightly-build
    healthcheck: {test: ["CMD", "/probe", "-health"]}
    secrets: [db_password]
secrets:
  very_long_secret_key:
    external: true
    name: ${STACK_NAME}_very_long_secret_key_v1
  db_password:
    external: true
    name: ${STACK_NAME}_db_password_${DB_PASSWORD_VERSION}
configs:
  app_conf:
    name: ${STACK_NAME}_app_conf_${APP_CONF_VERSION:-v1}
    file: app.conf
`,
	}
	in := recipeInput(t, files, []recipe.Tag{{Name: "v1.0.0"}, {Name: "0.9.0+1", Annotated: true}})
	got := Run(in)
	var lines []string
	for _, f := range got {
		lines = append(lines, f.Rule+" "+string(f.Severity)+" "+f.Object)
	}
	want := []string{
		"R001 warn compose",
		"R002 warn web", "R002 warn worker",
		"R003 warn web",
		"R004 warn worker",
		"R005 warn cron", "R005 warn worker",
		"R007 warn README.md",
		"R009 critical app",
		"R010 critical deploy labels",
		"R012 critical abra.sh",
		"R014 critical tag v1.0.0",
		"R015 warn secret very_long_secret_key",
		"SR001 warn secret lt_db_password_",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if Passed(got) {
		t.Error("critical findings must fail the lint")
	}
	if !Passed([]Finding{{Rule: "R002", Severity: Warn}}) {
		t.Error("warnings alone must pass the lint")
	}
}

// TestSkips: R010 is skipped for a recipe without DOMAIN in .env.sample, the tag rules when
// the tags are unknown; R012 names a version variable abra.sh does not export; R006 fails
// without a release tag; R008 without .env.sample.
func TestSkips(t *testing.T) {
	files := clean()
	files[".env.sample"] = "SECRET_DB_PASSWORD_VERSION=v1\n"
	files["abra.sh"] = "export OTHER_VERSION=v1\n"
	in := recipeInput(t, files, nil)
	in.TagsErr = errors.New("not a git repository")
	failed, skipped := outcome(Check(in))
	if strings.Join(skipped, ",") != "R006,R010,R013,R014" || strings.Join(failed, ",") != "R012 config app_conf,SR001 config lt_app_conf_" {
		t.Errorf("failed %v, skipped %v", failed, skipped)
	}
	delete(files, ".env.sample")
	failed, _ = outcome(Check(recipeInput(t, files, []recipe.Tag{{Name: "latest"}})))
	if strings.Join(failed, ",") != "R006 tags,R008 .env.sample,R012 config app_conf,SR001 config lt_app_conf_,SR001 secret lt_db_password_" {
		t.Errorf("failed %v", failed)
	}
}

func TestRulesAreAbrasThenSwarmruns(t *testing.T) {
	rules := Rules()
	critical := map[string]bool{"R008": true, "R009": true, "R010": true, "R011": true, "R012": true, "R014": true}
	for i, r := range rules[:15] {
		want := "R0" + string(rune('0'+(i+1)/10)) + string(rune('0'+(i+1)%10))
		if r.Ref != want || r.Description == "" || r.HowToResolve == "" || r.check == nil {
			t.Errorf("rule %d = %+v, want %s complete", i, r, want)
		}
		if (r.Level == Critical) != critical[r.Ref] {
			t.Errorf("%s level %s", r.Ref, r.Level)
		}
		if r.Unverified != (r.Ref != "R001") {
			t.Errorf("%s unverified %t: only R001 is verified against abra", r.Ref, r.Unverified)
		}
	}
	for _, r := range rules[15:] {
		if !strings.HasPrefix(r.Ref, "SR") || r.Unverified {
			t.Errorf("swarmrun's own rule %+v", r)
		}
	}
}
