package recipe

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// listTree lists the files under dir as "path" or "path -> target" for symlinks, with "*"
// marking executables.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			rel += " -> " + target
		case info.Mode()&0o111 != 0:
			rel += "*"
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestMaterialise(t *testing.T) {
	r := newTestRepo(t, "main")
	first := r.commit("first", map[string]string{
		"compose.yml":          "services: {app: {image: nginx}}\n",
		"compose.smtp.yml":     "services: {}\n",
		".env.sample":          "DOMAIN=app.example.com\n",
		"release/0.1.0+1.0":    "notes\n",
		"entrypoint.sh.tmpl":   "#!/bin/sh\n",
		"abra.sh":              "export APP_ENTRYPOINT_VERSION=v1\n",
		"configs/nginx.conf":   "server {}\n",
		"configs/nested/a.txt": "a\n",
	})
	if err := os.Chmod(filepath.Join(r.dir, "abra.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("configs/nginx.conf", filepath.Join(r.dir, "nginx.conf")); err != nil {
		t.Fatal(err)
	}
	second := r.commit("second", map[string]string{"compose.yml": "services: {app: {image: caddy}}\n"})
	s := openLocal(t, r.dir)

	dir := filepath.Join(t.TempDir(), "run", "base")
	if err := s.Materialise(t.Context(), second, dir); err != nil {
		t.Fatal(err)
	}
	want := []string{
		".env.sample", "abra.sh*", "compose.smtp.yml", "compose.yml", "configs/nested/a.txt", "configs/nginx.conf",
		"entrypoint.sh.tmpl", "nginx.conf -> configs/nginx.conf", "release/0.1.0+1.0",
	}
	if got := listTree(t, dir); !slices.Equal(got, want) {
		t.Errorf("materialised files =\n  %v\nwant\n  %v", got, want)
	}
	if got := readFile(t, filepath.Join(dir, "compose.yml")); got != "services: {app: {image: caddy}}\n" {
		t.Errorf("compose.yml = %q", got)
	}

	// Each commit in its own directory: the older one keeps its own files.
	old := filepath.Join(t.TempDir(), "old")
	if err := s.Materialise(t.Context(), first, old); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(old, "compose.yml")); got != "services: {app: {image: nginx}}\n" {
		t.Errorf("first compose.yml = %q", got)
	}
	if _, err := os.Stat(filepath.Join(old, "nginx.conf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the symlink of the second commit leaked into the first: %v", err)
	}

	// A directory already used is refused rather than mixed.
	if err := s.Materialise(t.Context(), first, dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Materialise into a used directory: %v", err)
	}
	// An empty existing directory is fine.
	empty := t.TempDir()
	if err := s.Materialise(t.Context(), first, empty); err != nil {
		t.Errorf("Materialise into an empty directory: %v", err)
	}
	if err := s.Materialise(t.Context(), strings.Repeat("ab", 20), t.TempDir()); !errors.Is(err, ErrCommitNotFound) {
		t.Errorf("Materialise(unknown commit) = %v, want ErrCommitNotFound", err)
	}
	if err := s.Materialise(t.Context(), "main", t.TempDir()); err == nil {
		t.Error("Materialise(a branch name) succeeded; want a full commit id")
	}
}

func TestMaterialiseRefusesEscapingSymlink(t *testing.T) {
	r := newTestRepo(t, "main")
	r.write(map[string]string{"compose.yml": "x"})
	if err := os.Symlink("../../etc/passwd", filepath.Join(r.dir, "evil")); err != nil {
		t.Fatal(err)
	}
	c := r.commit("evil", nil)
	err := openLocal(t, r.dir).Materialise(t.Context(), c, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("Materialise with an escaping symlink: %v", err)
	}
}

func TestMaterialiseCancelled(t *testing.T) {
	r := newTestRepo(t, "main")
	c := r.commit("one", map[string]string{"compose.yml": "x", "b": "y"})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := openLocal(t, r.dir).Materialise(ctx, c, t.TempDir()); err == nil {
		t.Error("Materialise with a cancelled context succeeded")
	}
}

func TestDirtyWorkingTree(t *testing.T) {
	r := newTestRepo(t, "main")
	head := r.commit("one", map[string]string{
		"compose.yml": "services: {app: {image: nginx}}\n",
		".gitignore":  "*.local\nbuild/\n",
	})
	s := openLocal(t, r.dir)
	dirty, err := s.Dirty(t.Context())
	if err != nil || dirty {
		t.Fatalf("Dirty() on a clean tree = %v, %v", dirty, err)
	}
	r.write(map[string]string{
		"compose.yml":        "services: {app: {image: caddy}}\n",
		"compose.extra.yml":  "services: {}\n",
		"secrets.local":      "ignored\n",
		"build/out.txt":      "ignored\n",
		"configs/new.conf":   "untracked\n",
		"configs/skip.local": "ignored\n",
	})
	if dirty, err = s.Dirty(t.Context()); err != nil || !dirty {
		t.Fatalf("Dirty() on a changed tree = %v, %v", dirty, err)
	}
	dir := filepath.Join(t.TempDir(), "head")
	if err := s.MaterialiseWorkingTree(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	want := []string{".gitignore", "compose.extra.yml", "compose.yml", "configs/new.conf"}
	if got := listTree(t, dir); !slices.Equal(got, want) {
		t.Errorf("working tree copy =\n  %v\nwant\n  %v", got, want)
	}
	if got := readFile(t, filepath.Join(dir, "compose.yml")); got != "services: {app: {image: caddy}}\n" {
		t.Errorf("copied compose.yml = %q, want the uncommitted content", got)
	}
	if got := ChaosVersion(head, dirty); got != head[:8]+"+U" {
		t.Errorf("ChaosVersion = %q", got)
	}

	if err := s.MaterialiseWorkingTree(t.Context(), filepath.Join(r.dir, "inside")); err == nil {
		t.Error("MaterialiseWorkingTree into the source itself succeeded")
	}
	url, _ := r.bare()
	mirror, err := NewCache(Options{Dir: t.TempDir()}).Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	if err := mirror.MaterialiseWorkingTree(t.Context(), t.TempDir()); err == nil {
		t.Error("MaterialiseWorkingTree of a mirror succeeded")
	}
	if dirty, err := mirror.Dirty(t.Context()); err != nil || dirty {
		t.Errorf("mirror Dirty() = %v, %v", dirty, err)
	}
}

func TestChaosVersion(t *testing.T) {
	tests := []struct {
		commit string
		dirty  bool
		want   string
	}{
		{"ae5a8180c0ffee00000000000000000000000000", false, "ae5a8180"},
		{"ae5a8180c0ffee00000000000000000000000000", true, "ae5a8180+U"},
		{"abc", false, "abc"},
	}
	for _, tt := range tests {
		if got := ChaosVersion(tt.commit, tt.dirty); got != tt.want {
			t.Errorf("ChaosVersion(%q, %v) = %q, want %q", tt.commit, tt.dirty, got, tt.want)
		}
	}
}
