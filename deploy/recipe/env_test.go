package recipe

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseDotenv(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Var
		wantErr string
	}{
		{
			name: "plain, export, blank and comment lines",
			in:   "# Domain\nDOMAIN=app.example.com\n\nexport LETS_ENCRYPT_ENV=production\n  # indented comment\n",
			want: []Var{
				{Name: "DOMAIN", Value: "app.example.com", Expand: true},
				{Name: "LETS_ENCRYPT_ENV", Value: "production", Expand: true},
			},
		},
		{
			name: "length hint on a secret version",
			in:   "SECRET_DB_PASSWORD_VERSION=v1 # length=32\nSECRET_API_KEY_VERSION=v2  #length=64 charset=safe\n",
			want: []Var{
				{Name: "SECRET_DB_PASSWORD_VERSION", Value: "v1", Expand: true, Hints: map[string]string{"length": "32"}},
				{Name: "SECRET_API_KEY_VERSION", Value: "v2", Expand: true, Hints: map[string]string{"length": "64", "charset": "safe"}},
			},
		},
		{
			name: "quotes",
			in:   "COMPOSE_FILE=\"compose.yml:compose.smtp.yml\"\nGREETING='hello # not a comment $HOME'\nMULTI=\"a\\nb \\\"q\\\" \\$LIT\" # length=3\nEMPTY=\nEMPTYQ=\"\"\n",
			want: []Var{
				{Name: "COMPOSE_FILE", Value: "compose.yml:compose.smtp.yml", Expand: true},
				{Name: "GREETING", Value: "hello # not a comment $HOME"},
				{Name: "MULTI", Value: "a\nb \"q\" \\$LIT", Expand: true, Hints: map[string]string{"length": "3"}},
				{Name: "EMPTY", Value: "", Expand: true},
				{Name: "EMPTYQ", Value: "", Expand: true},
			},
		},
		{
			name: "hash inside an unquoted value is not a comment",
			in:   "COLOR=#ff0000\nURL=https://x.example/#frag # note\nNOTE= # only a comment\n",
			want: []Var{
				{Name: "COLOR", Value: "#ff0000", Expand: true},
				{Name: "URL", Value: "https://x.example/#frag", Expand: true},
				{Name: "NOTE", Value: "", Expand: true},
			},
		},
		{name: "not an assignment", in: "JUSTAWORD\n", wantErr: "line 1"},
		{name: "bad name", in: "A=1\n1BAD=x\n", wantErr: "line 2: invalid variable name"},
		{name: "unterminated double quote", in: "A=\"abc\n", wantErr: "unterminated double quote"},
		{name: "unterminated single quote", in: "A='abc\n", wantErr: "unterminated single quote"},
		{name: "junk after quotes", in: "A=\"abc\" def\n", wantErr: "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDotenv(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDotenv() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertVars(t, got.Vars, tt.want)
		})
	}
}

func assertVars(t *testing.T, got, want []Var) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d vars %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Value != w.Value || g.Expand != w.Expand || !maps.Equal(g.Hints, w.Hints) {
			t.Errorf("var %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestParseAbraSh(t *testing.T) {
	in := `#!/usr/bin/env bash

export APP_ENTRYPOINT_VERSION=v3
export NGINX_CONF_VERSION="v2"
export PG_BACKUP_VERSION=v1 # bumped for 0.8
export NOW=$(date +%s)
export -f helper
BARE=not-exported

helper() {
  export INSIDE_FUNCTION=v9
  rm -rf /
}
`
	got, err := ParseAbraSh(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	assertVars(t, got.Vars, []Var{
		{Name: "APP_ENTRYPOINT_VERSION", Value: "v3"},
		{Name: "NGINX_CONF_VERSION", Value: "v2"},
		{Name: "PG_BACKUP_VERSION", Value: "v1"},
	})
}

func TestLoadEnv(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env, err := LoadEnv(dir)
	if err != nil || len(env.Vars) != 0 {
		t.Fatalf("LoadEnv(empty recipe) = %+v, %v", env, err)
	}
	write(EnvSampleFile, "DOMAIN=app.example.com\nAPP_ENTRYPOINT_VERSION=v1\nSECRET_DB_PASSWORD_VERSION=v1 # length=48\n")
	write(AbraShFile, "export APP_ENTRYPOINT_VERSION=v2\n")
	env, err = LoadEnv(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := env.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"DOMAIN": "app.example.com", "APP_ENTRYPOINT_VERSION": "v2", "SECRET_DB_PASSWORD_VERSION": "v1"}
	if !maps.Equal(got, want) {
		t.Errorf("Resolve() = %v, want %v (abra.sh over .env.sample)", got, want)
	}
	if n, ok := env.Length("SECRET_DB_PASSWORD_VERSION"); !ok || n != 48 {
		t.Errorf("Length() = %d, %v; want 48", n, ok)
	}
	if _, ok := env.Length("DOMAIN"); ok {
		t.Error("Length(DOMAIN) has a hint")
	}

	write(EnvSampleFile, "NOT AN ASSIGNMENT\n")
	if _, err := LoadEnv(dir); err == nil || !strings.Contains(err.Error(), EnvSampleFile) {
		t.Errorf("LoadEnv(bad sample) = %v, want an error naming %s", err, EnvSampleFile)
	}
}

func TestEnvResolve(t *testing.T) {
	sample := `DOMAIN=sample.example.com
URL="https://${DOMAIN}/"
PLAIN=$DOMAIN
LITERAL='${DOMAIN}'
ESCAPED="\$DOMAIN"
DEFAULTED=${MISSING:-fallback}
UNKNOWN=x${MISSING}y
COMPOSE_FILE=compose.yml
COMPOSE_FILE="$COMPOSE_FILE:compose.smtp.yml"
STACK_NAME=from-sample
FROM_RUN=sample
`
	env, err := ParseDotenv(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	recipeEnv := map[string]string{"FROM_RUN": "recipe", "FROM_RECIPE": "${DOMAIN}"}
	runEnv := map[string]string{"FROM_RUN": "run"}
	controller := map[string]string{"STACK_NAME": "disc-pr4-8f3a1c", "DOMAIN": "disc-pr4-8f3a1c.swarm.test"}
	got, err := env.Resolve(recipeEnv, runEnv, controller)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"DOMAIN":       "disc-pr4-8f3a1c.swarm.test",
		"URL":          "https://disc-pr4-8f3a1c.swarm.test/",
		"PLAIN":        "disc-pr4-8f3a1c.swarm.test",
		"LITERAL":      "${DOMAIN}",
		"ESCAPED":      "$DOMAIN",
		"DEFAULTED":    "fallback",
		"UNKNOWN":      "xy",
		"COMPOSE_FILE": "compose.yml:compose.smtp.yml",
		"STACK_NAME":   "disc-pr4-8f3a1c",
		"FROM_RUN":     "run",
		// Layer values are literal: no expansion of operator input.
		"FROM_RECIPE": "${DOMAIN}",
	}
	if !maps.Equal(got, want) {
		for k := range Merge(got, want) {
			if got[k] != want[k] {
				t.Errorf("%s = %q, want %q", k, got[k], want[k])
			}
		}
	}
}

// TestEnvResolveBonfireComposeFile: bonfire's .env.sample builds COMPOSE_FILE line by line
// and comments out the optional overlays; each line expands the one above it. An operator's
// COMPOSE_FILE replaces the whole chain.
func TestEnvResolveBonfireComposeFile(t *testing.T) {
	sample := `COMPOSE_FILE="compose.yml"
COMPOSE_FILE="$COMPOSE_FILE:compose.postgres.yml"
#COMPOSE_FILE="$COMPOSE_FILE:compose.sonic.yml"
COMPOSE_FILE="${COMPOSE_FILE}:postgres/compose.postgres.tune.yml"
`
	env, err := ParseDotenv(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	got, err := env.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if want := "compose.yml:compose.postgres.yml:postgres/compose.postgres.tune.yml"; got["COMPOSE_FILE"] != want {
		t.Errorf("COMPOSE_FILE = %q, want %q", got["COMPOSE_FILE"], want)
	}
	got, err = env.Resolve(map[string]string{"COMPOSE_FILE": "compose.yml:compose.sonic.yml"})
	if err != nil || got["COMPOSE_FILE"] != "compose.yml:compose.sonic.yml" {
		t.Errorf("with the operator's COMPOSE_FILE: %q, %v", got["COMPOSE_FILE"], err)
	}
}

// TestEnvResolveRequired: ${NAME?message} and ${NAME:?message} stop the resolution with the
// file, line, variable and message; a default or a set value passes.
func TestEnvResolveRequired(t *testing.T) {
	dir := t.TempDir()
	sample := "DOMAIN=x.example\nMAIL=${MAIL_HOST:?set MAIL_HOST for the mail overlay}\nOK=${DOMAIN?never}\n"
	if err := os.WriteFile(filepath.Join(dir, EnvSampleFile), []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	env, err := LoadEnv(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.Resolve()
	want := ".env.sample:2: MAIL: required variable MAIL_HOST is missing a value: set MAIL_HOST for the mail overlay"
	if err == nil || err.Error() != want {
		t.Errorf("Resolve() error = %v, want %q", err, want)
	}
	got, err := env.Resolve(map[string]string{"MAIL_HOST": "smtp.example"})
	if err != nil || got["MAIL"] != "smtp.example" || got["OK"] != "x.example" {
		t.Errorf("Resolve(MAIL_HOST set) = %v, %v", got, err)
	}
	env.Vars = append(env.Vars, Var{Name: "EMPTY_OK", Value: "${UNSET?}", Expand: true, File: AbraShFile, Line: 7})
	if _, err := env.Resolve(map[string]string{"MAIL_HOST": "m"}); err == nil || !strings.HasPrefix(err.Error(), "abra.sh:7: EMPTY_OK: required variable UNSET") {
		t.Errorf("unset with \"?\": %v", err)
	}
	if got, err := env.Resolve(map[string]string{"MAIL_HOST": "m", "UNSET": ""}); err != nil || got["EMPTY_OK"] != "" {
		t.Errorf("set but empty with \"?\" passes: %v, %v", got["EMPTY_OK"], err)
	}
}

func TestMerge(t *testing.T) {
	got := Merge(map[string]string{"A": "1", "B": "1"}, nil, map[string]string{"B": "2", "C": "2"})
	want := map[string]string{"A": "1", "B": "2", "C": "2"}
	if !maps.Equal(got, want) {
		t.Errorf("Merge() = %v, want %v", got, want)
	}
}

// TestLoadEnvRefusesSymlinksOutside: .env.sample and abra.sh are read inside the checkout
// only, also when each link of a chain looks harmless.
func TestLoadEnvRefusesSymlinksOutside(t *testing.T) {
	for _, tt := range []struct {
		file  string
		links [][2]string
	}{
		{EnvSampleFile, [][2]string{{EnvSampleFile, "../canary.env"}}},
		{AbraShFile, [][2]string{{AbraShFile, "/etc/passwd"}}},
		{EnvSampleFile, [][2]string{{"a0", "."}, {"b1", "a0/.."}, {EnvSampleFile, "b1/canary.env"}}},
	} {
		t.Run(tt.file+" -> "+tt.links[len(tt.links)-1][1], func(t *testing.T) {
			dir := linkedCheckout(t, map[string]string{"canary.env": "CANARY=leaked\n"}, tt.links)
			env, err := LoadEnv(dir)
			if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tt.file+": ") || strings.Contains(err.Error(), "leaked") {
				t.Errorf("LoadEnv = %+v, %v; want an ErrUnsafe refusal naming %s", env, err, tt.file)
			}
		})
	}
}
