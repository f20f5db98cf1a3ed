package render

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRender feeds arbitrary overlays to Render: it must return a stack or an *Error, never
// panic, and never any other error for bad input.
func FuzzRender(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yml"))
	more, _ := filepath.Glob(filepath.Join("testdata", "good", "*", "*.yml"))
	for _, path := range append(seeds, more...) {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"services": {"a": {"image": "x", "ulimits": {"nofile": {"soft": 1, "hard": 2}}}}}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, overlay []byte) {
		st, err := Render(t.Context(), Options{Stack: testStack, Dir: dir, Overlays: [][]byte{overlay}})
		if err == nil {
			if st == nil || st.Digest == "" {
				t.Fatalf("no error and no stack")
			}
			return
		}
		var re *Error
		if !errors.As(err, &re) {
			t.Fatalf("error %v (%T) is not a *render.Error", err, err)
		}
	})
}
