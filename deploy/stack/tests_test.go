package stack

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/confine"
)

// A recipe's shipped checks are read inside its checkout only, and bounded.
func TestRecipeTests(t *testing.T) {
	write := func(t *testing.T, dir, name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("absent", func(t *testing.T) {
		if _, found, err := RecipeTests(t.TempDir()); found || err != nil {
			t.Errorf("found %t, err %v; want neither", found, err)
		}
	})
	t.Run("present", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "tests/swarmrun.yaml", "kind: RecipeTests\n")
		if b, found, err := RecipeTests(dir); !found || err != nil || string(b) != "kind: RecipeTests\n" {
			t.Errorf("= %q, %t, %v", b, found, err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "tests/swarmrun.yaml", strings.Repeat("#", MaxRecipeTestsSize+1))
		if _, _, err := RecipeTests(dir); !errors.Is(err, confine.ErrTooLarge) {
			t.Errorf("err = %v, want ErrTooLarge", err)
		}
	})
	t.Run("a link out of the checkout", func(t *testing.T) {
		outside := t.TempDir()
		write(t, outside, "secret", "not the recipe's")
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "tests"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "tests", "swarmrun.yaml")); err != nil {
			t.Fatal(err)
		}
		b, _, err := RecipeTests(dir)
		if !errors.Is(err, confine.ErrUnsafe) || len(b) != 0 {
			t.Errorf("= %q, %v; want an ErrUnsafe refusal", b, err)
		}
		if reason, final := Reason(err); reason != v1alpha1.ReasonRenderFailed || !final {
			t.Errorf("reason %s, final %t", reason, final)
		}
	})
}
