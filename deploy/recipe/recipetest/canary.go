package recipetest

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Canary is what the files planted around a checkout hold: it must never appear in anything
// a render, an error or a materialised checkout carries.
const Canary = "CANARY-swarmrun-must-never-read-this"

// Layout is a data directory as a run sees it, with canaries planted around a deploy's
// directory: Top/canary.txt, Top/data/secret.key (three levels above the checkout, where
// the key that derives generated secrets lives) and Top/data/swarmrun.db.
type Layout struct {
	// Top is the test's temporary directory.
	Top string
	// Data is the data directory, Top/data.
	Data string
	// Checkout is a deploy's directory, Data/runs/run1/head. It does not exist yet.
	Checkout string
}

// NewLayout plants the canaries.
func NewLayout(t testing.TB) Layout {
	t.Helper()
	top := t.TempDir()
	l := Layout{Top: top, Data: filepath.Join(top, "data"), Checkout: filepath.Join(top, "data", "runs", "run1", "head")}
	for _, name := range []string{"canary.txt", "data/secret.key", "data/swarmrun.db"} {
		p := filepath.Join(top, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(Canary), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(l.Checkout), 0o755); err != nil {
		t.Fatal(err)
	}
	return l
}

// Snapshot is what is under a directory, but for the paths it skips: each path with its
// mode, and for files and symlinks their modification time and (files) content.
type Snapshot struct {
	dir   string
	skip  []string
	files map[string]string
}

// Snap records what is under dir, skipping the paths under each of skip (absolute).
func Snap(t testing.TB, dir string, skip ...string) Snapshot {
	t.Helper()
	s := Snapshot{dir: dir, skip: skip, files: map[string]string{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, sk := range skip {
			if p == sk || strings.HasPrefix(p, sk+string(filepath.Separator)) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		// A directory's time moves when the checkout is made in it; its entries are compared.
		state := info.Mode().String()
		if !info.IsDir() {
			state += " " + info.ModTime().Format(time.RFC3339Nano)
		}
		if info.Mode().IsRegular() {
			content, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			state += " " + string(content)
		}
		s.files[p] = state
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Unchanged fails the test when anything under the snapshot's directory (but the skipped
// paths) was added, removed or modified since.
func (s Snapshot) Unchanged(t testing.TB) {
	t.Helper()
	now := Snap(t, s.dir, s.skip...)
	for p, was := range s.files {
		if is, ok := now.files[p]; !ok {
			t.Errorf("%s was removed", p)
		} else if is != was {
			t.Errorf("%s was modified", p)
		}
	}
	for p := range now.files {
		if _, ok := s.files[p]; !ok {
			t.Errorf("%s was created", p)
		}
	}
}

// NoCanary fails the test when any of texts carries the canary.
func NoCanary(t testing.TB, what string, texts ...[]byte) {
	t.Helper()
	for _, b := range texts {
		if bytes.Contains(b, []byte(Canary)) {
			t.Errorf("%s carries the canary: a file outside the checkout was read", what)
		}
	}
}
