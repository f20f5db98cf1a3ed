package render

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenderBadGolden renders every testdata/bad/*.yml and compares the error with its
// .golden file: the message, the file, the key path and the line.
func TestRenderBadGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yml"))
	if err != nil || len(files) < 12 {
		t.Fatalf("want at least 12 bad inputs, have %d (%v)", len(files), err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".yml"), func(t *testing.T) {
			dir := filepath.Dir(file)
			_, err := Render(t.Context(), Options{Stack: testStack, Dir: dir, Files: []string{name}})
			re := asError(t, err)
			if re.File != name {
				t.Errorf("File = %q, want %q", re.File, name)
			}
			golden := strings.TrimSuffix(file, ".yml") + ".golden"
			checkGolden(t, golden, scrubDir(t, []byte(describe(re)), dir))
		})
	}
}

// describe is the golden form of an *Error.
func describe(e *Error) string {
	return fmt.Sprintf("error: %s\nfile: %s\npath: %s\nline: %d\n", e.Error(), e.File, e.Path, e.Line)
}

// asError fails the test unless err is an *Error.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	if err == nil {
		t.Fatal("Render succeeded, want an error")
	}
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *render.Error", err, err)
	}
	return re
}

func TestRenderErrorAttribution(t *testing.T) {
	const base = "version: \"3.8\"\nservices:\n  app:\n    image: swarmrun-probe:1\n"
	tests := []struct {
		name     string
		files    map[string]string
		opts     Options
		wantFile string
		wantPath string
		wantLine int
		wantMsg  string
	}{
		{
			name:     "missing compose file",
			files:    map[string]string{"compose.yml": base},
			opts:     Options{Files: []string{"compose.yml", "compose.missing.yml"}},
			wantFile: "compose.missing.yml",
			wantMsg:  "compose.missing.yml: open: no such file or directory",
		},
		{
			name:     "error in the second file",
			files:    map[string]string{"compose.yml": base, "compose.x.yml": "version: \"3.8\"\nservices:\n  app:\n    deploy:\n      replicas: many\n"},
			opts:     Options{Files: []string{"compose.yml", "compose.x.yml"}},
			wantFile: "compose.x.yml",
			wantPath: "services.app.deploy.replicas",
			wantLine: 5,
			wantMsg:  "compose.x.yml:5: services.app.deploy.replicas must be a integer",
		},
		{
			name:     "version mismatch between files",
			files:    map[string]string{"compose.yml": base, "compose.x.yml": "version: \"3.7\"\n"},
			opts:     Options{Files: []string{"compose.yml", "compose.x.yml"}},
			wantFile: "compose.x.yml",
			wantPath: "version",
			wantLine: 1,
			wantMsg:  "compose.x.yml:1: version mismatched between two composefiles : 3.8 and 3.7",
		},
		{
			name:     "overlay with an unknown key",
			files:    map[string]string{"compose.yml": base},
			opts:     Options{Files: []string{"compose.yml"}, Overlays: [][]byte{[]byte("services: {app: {deploy: {labels: [a=b]}}}"), []byte("services:\n  app:\n    imag: x\n")}},
			wantFile: "overlay[1]",
			wantPath: "services.app.imag",
			wantLine: 3,
			wantMsg:  "overlay[1]:3: services.app Additional property imag is not allowed",
		},
		{
			name:     "overlay with a syntax error",
			files:    map[string]string{"compose.yml": base},
			opts:     Options{Files: []string{"compose.yml"}, Overlays: [][]byte{[]byte("services: [")}},
			wantFile: "overlay[0]",
			wantLine: 1,
		},
		{
			name:     "network undefined in the overlay that uses it",
			files:    map[string]string{"compose.yml": base},
			opts:     Options{Files: []string{"compose.yml"}, Overlays: [][]byte{[]byte("services:\n  app:\n    networks: [proxy]\n")}},
			wantFile: "overlay[0]",
			wantPath: "services.app.networks.proxy",
			wantLine: 3,
			wantMsg:  `overlay[0]:3: service app: undefined network "proxy"`,
		},
		{
			name:    "empty stack name",
			files:   map[string]string{"compose.yml": base},
			opts:    Options{Stack: " ", Files: []string{"compose.yml"}},
			wantMsg: `invalid stack name: " "`,
		},
		{
			name:    "nothing to render",
			opts:    Options{},
			wantMsg: "no compose files and no overlays",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Dir = writeFiles(t, tt.files)
			if opts.Stack == "" {
				opts.Stack = testStack
			}
			_, err := Render(t.Context(), opts)
			re := asError(t, err)
			if re.File != tt.wantFile || re.Path != tt.wantPath || re.Line != tt.wantLine {
				t.Errorf("got file %q path %q line %d, want %q %q %d (%v)", re.File, re.Path, re.Line, tt.wantFile, tt.wantPath, tt.wantLine, err)
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("error = %q, want %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

func TestRenderMissingFileIsNotExist(t *testing.T) {
	_, err := Render(t.Context(), Options{Stack: testStack, Dir: t.TempDir(), Files: []string{"compose.yml"}})
	asError(t, err)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", err)
	}
}

func TestRenderErrorsHideSecretData(t *testing.T) {
	const secret = "s3cr3t-value-that-must-not-leak"
	files := map[string]string{
		"compose.yml": "version: \"3.8\"\nservices:\n  app:\n    image: swarmrun-probe:1\n    secrets: [token, missing]\nsecrets:\n  token:\n    file: token.txt\n",
		"token.txt":   secret,
	}
	_, err := Render(t.Context(), Options{Stack: testStack, Dir: writeFiles(t, files), Files: []string{"compose.yml"}})
	asError(t, err)
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q contains secret data", err)
	}
}
