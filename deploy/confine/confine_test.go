package confine_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/deploy/confine"
)

// layout makes <tmp>/outside.txt and the directory <tmp>/co with files and symlinks, and
// returns the directory.
func layout(t *testing.T, files, links map[string]string) string {
	t.Helper()
	top := t.TempDir()
	if err := os.WriteFile(filepath.Join(top, "outside.txt"), []byte("CANARY"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(top, "co")
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func openDir(t *testing.T, dir string) *confine.Dir {
	t.Helper()
	d, err := confine.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestLocal(t *testing.T) {
	for _, tt := range []struct {
		name, want string
		unsafe     bool
	}{
		{"compose.yml", "compose.yml", false},
		{"./a/../b.yml", "b.yml", false},
		{"a/b", "a/b", false},
		{".", ".", false},
		{"/etc/shadow", "", true},
		{"../x", "", true},
		{"a/../../x", "", true},
		{"", ".", false},
	} {
		got, err := confine.Local(tt.name)
		if tt.unsafe {
			if !errors.Is(err, confine.ErrUnsafe) {
				t.Errorf("Local(%q) = %q, %v; want ErrUnsafe", tt.name, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Local(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestWithin(t *testing.T) {
	dir := t.TempDir()
	if rel, err := confine.Within(dir, filepath.Join(dir, "sub", "x"), "sub/x"); err != nil || rel != filepath.Join("sub", "x") {
		t.Errorf("inside: %q, %v", rel, err)
	}
	for _, p := range []string{filepath.Join(dir, "..", "secret.key"), "/etc/shadow", filepath.Dir(dir)} {
		_, err := confine.Within(dir, p, "shown")
		if !errors.Is(err, confine.ErrUnsafe) || !strings.Contains(err.Error(), `"shown" is outside the recipe checkout`) {
			t.Errorf("Within(%s) = %v, want a refusal naming the path as shown", p, err)
		}
	}
}

// TestDirRefusesSymlinkEscapes pins os.Root's refusal text (escapes) too: each escape must be
// an ErrUnsafe refusal, not a plain error.
func TestDirRefusesSymlinkEscapes(t *testing.T) {
	links := map[string]string{
		"abs":    "/etc/passwd",
		"up":     "../outside.txt",
		"a0":     ".",
		"b1":     "a0/..",
		"canary": "b1/outside.txt", // each link looks harmless; together they leave the directory
		"inside": "sub/ok.txt",
		"subdir": "sub",
		"loop":   "loop",
	}
	d := openDir(t, layout(t, map[string]string{"sub/ok.txt": "ok"}, links))
	for _, name := range []string{"abs", "up", "canary", "b1/outside.txt", "../outside.txt", "/etc/passwd"} {
		data, err := d.ReadFile(name, 0)
		if !errors.Is(err, confine.ErrUnsafe) || strings.Contains(err.Error(), "CANARY") || data != nil {
			t.Errorf("ReadFile(%s) = %q, %v; want an ErrUnsafe refusal", name, data, err)
		}
		if _, err := d.Stat(name); !errors.Is(err, confine.ErrUnsafe) {
			t.Errorf("Stat(%s) = %v; want an ErrUnsafe refusal", name, err)
		}
	}
	for _, name := range []string{"inside", "subdir/ok.txt", "sub/ok.txt"} {
		if data, err := d.ReadFile(name, 0); err != nil || string(data) != "ok" {
			t.Errorf("ReadFile(%s) = %q, %v", name, data, err)
		}
	}
	if _, err := d.ReadFile("missing", 0); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, confine.ErrUnsafe) {
		t.Errorf("ReadFile(missing) = %v, want ErrNotExist only", err)
	}
	if _, err := d.ReadFile("loop", 0); err == nil || errors.Is(err, confine.ErrUnsafe) {
		t.Errorf("ReadFile(loop) = %v, want a plain error", err)
	}
	if _, err := d.ReadFile("sub", 0); err == nil || errors.Is(err, confine.ErrUnsafe) {
		t.Errorf("ReadFile(a directory) = %v, want a plain error", err)
	}
}

func TestDirReadFileLimit(t *testing.T) {
	d := openDir(t, layout(t, map[string]string{"big": strings.Repeat("x", 11)}, nil))
	if data, err := d.ReadFile("big", 11); err != nil || len(data) != 11 {
		t.Errorf("at the limit: %d bytes, %v", len(data), err)
	}
	_, err := d.ReadFile("big", 10)
	if !errors.Is(err, confine.ErrTooLarge) || !errors.Is(err, confine.ErrUnsafe) || err.Error() != `"big" is larger than 10 bytes` {
		t.Errorf("over the limit: %v", err)
	}
}

func TestRefusalText(t *testing.T) {
	cause := errors.New("cause")
	err := confine.Unsafe("compose.yml: configs.x.file: %w", confine.Outside("/etc/shadow"))
	if err.Error() != `compose.yml: configs.x.file: "/etc/shadow" is outside the recipe checkout` || !errors.Is(err, confine.ErrUnsafe) {
		t.Errorf("Unsafe = %v", err)
	}
	if errors.Is(err, confine.ErrTooLarge) {
		t.Error("an Unsafe refusal matches ErrTooLarge")
	}
	if err := confine.TooLarge("x: %w", cause); !errors.Is(err, cause) || !errors.Is(err, confine.ErrTooLarge) {
		t.Errorf("TooLarge does not wrap its cause: %v", err)
	}
}
