package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
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
