package render

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCase is testdata/good/<case>/case.json: the options of one render, relative to the
// case directory.
type goldenCase struct {
	Files    []string          `json:"files"`
	Overlays []string          `json:"overlays"`
	Env      map[string]string `json:"env"`
}

// testStack is the stack name of every golden render.
const testStack = "test"

func TestRenderGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "good", "*", "case.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, casePath := range dirs {
		dir := filepath.Dir(casePath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			opts := readCase(t, dir)
			st, err := Render(t.Context(), opts)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			got, err := json.MarshalIndent(st, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join(dir, "want.json"), append(scrubDir(t, got, dir), '\n'))
		})
	}
}

// readCase reads a golden case's options.
func readCase(t *testing.T, dir string) Options {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c goldenCase
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	opts := Options{Stack: testStack, Dir: dir, Files: c.Files, Env: c.Env}
	for _, o := range c.Overlays {
		opts.Overlays = append(opts.Overlays, []byte(o))
	}
	return opts
}

// scrubDir replaces the absolute path of dir, which differs between machines, by "$DIR".
func scrubDir(t *testing.T, b []byte, dir string) []byte {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b, []byte(abs), []byte("$DIR"))
}

// checkGolden compares got with the golden file, or rewrites it under -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			continue
		}
		fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, wl, gl)
		if shown++; shown == 10 {
			break
		}
	}
	return b.String()
}

// writeFiles writes name→content files into a fresh directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRenderEnvIsOnlyOptsEnv(t *testing.T) {
	// Set in the process, absent from Options.Env: must not reach the render.
	t.Setenv("SWARMRUN_RENDER_LEAK", "from-process")
	t.Setenv("SWARMRUN_RENDER_TAG", "9")
	compose := `version: "3.8"
services:
  app:
    image: swarmrun-probe:${SWARMRUN_RENDER_TAG:-1}
    environment:
      - SWARMRUN_RENDER_LEAK
      - FALLBACK=${SWARMRUN_RENDER_LEAK:-default}
      - GIVEN=${GIVEN}
`
	dir := writeFiles(t, map[string]string{"compose.yml": compose})
	st, err := Render(t.Context(), Options{Stack: testStack, Dir: dir, Files: []string{"compose.yml"}, Env: map[string]string{"GIVEN": "yes"}})
	if err != nil {
		t.Fatal(err)
	}
	spec := st.Services["test_app"]
	if got := spec.TaskTemplate.ContainerSpec.Image; got != "swarmrun-probe:1" {
		t.Errorf("image = %q, want the default tag: the process environment leaked", got)
	}
	want := []string{"FALLBACK=default", "GIVEN=yes", "SWARMRUN_RENDER_LEAK"}
	if got := spec.TaskTemplate.ContainerSpec.Env; !slices.Equal(got, want) {
		t.Errorf("env = %q, want %q", got, want)
	}
}

func TestRenderOverlayWithoutVersion(t *testing.T) {
	tests := []struct {
		name    string
		compose string
		overlay string
	}{
		{"versioned file", "version: \"3.8\"\nservices:\n  app:\n    image: swarmrun-probe:1\n", "services:\n  app:\n    image: swarmrun-probe:2\n"},
		{"unversioned file", "services:\n  app:\n    image: swarmrun-probe:1\n", "services:\n  app:\n    image: swarmrun-probe:2\n"},
		{"json overlay", "version: \"3.7\"\nservices:\n  app:\n    image: swarmrun-probe:1\n", `{"services": {"app": {"image": "swarmrun-probe:2"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"compose.yml": tt.compose})
			st, err := Render(t.Context(), Options{Stack: testStack, Dir: dir, Files: []string{"compose.yml"}, Overlays: [][]byte{[]byte(tt.overlay)}})
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Images["test_app"]; got != "swarmrun-probe:2" {
				t.Errorf("image = %q, want the overlay's", got)
			}
		})
	}
}

func TestRenderWarnings(t *testing.T) {
	compose := "version: \"3.8\"\nservices:\n  app:\n    image: swarmrun-probe:1\n    build: .\n    restart: always\n"
	dir := writeFiles(t, map[string]string{"compose.yml": compose})
	st, err := Render(t.Context(), Options{Stack: testStack, Dir: dir, Files: []string{"compose.yml"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ignoring unsupported options: build, restart"}
	if !slices.Equal(st.Warnings, want) {
		t.Errorf("warnings = %q, want %q", st.Warnings, want)
	}
}

func TestRenderCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	dir := writeFiles(t, map[string]string{"compose.yml": "services:\n  app:\n    image: swarmrun-probe:1\n"})
	_, err := Render(ctx, Options{Stack: testStack, Dir: dir, Files: []string{"compose.yml"}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
