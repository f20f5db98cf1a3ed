package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
)

// token runs a command with the global flags and args, and returns the token it saw.
func token(t *testing.T, args ...string) (string, error) {
	t.Helper()
	g := &cli.Globals{}
	root := &cobra.Command{Use: "swarmrun", SilenceUsage: true, SilenceErrors: true}
	g.Bind(root)
	var seen string
	root.AddCommand(&cobra.Command{Use: "probe", RunE: func(*cobra.Command, []string) error {
		seen = g.Token
		return nil
	}})
	root.SetArgs(append([]string{"probe"}, args...))
	err := root.Execute()
	return seen, err
}

// TestTokenFile: the token comes from --token-file, which must be open to its owner only, or
// else from SWARMRUN_TOKEN; no flag carries the token itself.
func TestTokenFile(t *testing.T) {
	t.Setenv("SWARMRUN_TOKEN", "from-env")
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	private := write("private", "  s3cret\n", 0o600)
	if got, err := token(t, "--token-file", private); err != nil || got != "s3cret" {
		t.Errorf("0600 file: token %q, %v; want s3cret", got, err)
	}
	if got, err := token(t); err != nil || got != "from-env" {
		t.Errorf("no file: token %q, %v; want the environment's", got, err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620} {
		path := write(fmt.Sprintf("open-%o", mode), "s3cret\n", mode)
		_, err := token(t, "--token-file", path)
		if err == nil || cli.ExitCode(err) != cli.ExitInvalid {
			t.Fatalf("mode %#o: %v, want a refusal with exit 2", mode, err)
		}
		if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, fmt.Sprintf("mode %#o", mode)) || strings.Contains(msg, "s3cret") {
			t.Errorf("mode %#o: message %q, want the file and its mode, never the token", mode, msg)
		}
	}
	empty := write("empty", "\n", 0o600)
	if _, err := token(t, "--token-file", empty); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := token(t, "--token-file", filepath.Join(dir, "missing")); err == nil || cli.ExitCode(err) != cli.ExitInvalid {
		t.Errorf("missing file: %v, want exit 2", err)
	}
	if _, err := token(t, "--token", "s3cret"); err == nil || !strings.Contains(err.Error(), "unknown flag: --token") {
		t.Errorf("--token: %v, want an unknown flag", err)
	}
}
