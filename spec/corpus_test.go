package spec

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/bad")

// TestBadCorpus reads every malformed spec in testdata/bad and compares the error with the
// golden file beside it. Run `go test ./spec/ -run TestBadCorpus -update` after changing a
// message, and read the diff.
func TestBadCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("the corpus has %d malformed specs, want at least 30", len(files))
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			got := readBad(t, path)
			golden := strings.TrimSuffix(path, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("no golden file (run with -update to write it): %v", err)
			}
			if got != string(want) {
				t.Errorf("error differs from %s\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// readBad reads a malformed spec under its base name, so that messages do not depend on where
// the test runs, and returns the error text with a final newline.
func readBad(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	docs, err := Read(filepath.Base(path), f)
	if err == nil {
		t.Fatalf("read %d documents and no error", len(docs))
	}
	if docs != nil {
		t.Errorf("returned %d documents along with the error", len(docs))
	}
	var perr *Error
	if !errors.As(err, &perr) || len(perr.Problems) == 0 {
		t.Fatalf("error %v (%T) is not an *Error with problems", err, err)
	}
	for _, p := range perr.Problems {
		if p.File != filepath.Base(path) || p.Message == "" {
			t.Errorf("problem %+v lacks its file or message", p)
		}
	}
	return err.Error() + "\n"
}
