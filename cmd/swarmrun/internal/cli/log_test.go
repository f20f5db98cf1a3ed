package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
)

// logWith parses the global flags from args and logs through the logger they build: an info
// line at V(0), one at V(1), and an error.
func logWith(t *testing.T, args ...string) (string, error) {
	t.Helper()
	g := &cli.Globals{}
	root := &cobra.Command{Use: "swarmrun", SilenceUsage: true, SilenceErrors: true}
	g.Bind(root)
	var out bytes.Buffer
	root.AddCommand(&cobra.Command{Use: "probe", RunE: func(*cobra.Command, []string) error {
		log := g.LoggerTo(&out).WithValues("controller", "testruns")
		log.Info("reconcile done", "result", "success", "name", "demo-pr1")
		log.V(1).Info("resync", "keys", 3)
		log.Error(errors.New("engine busy"), "reconcile done", "result", "error")
		return nil
	}})
	root.SetArgs(append([]string{"probe"}, args...))
	err := root.Execute()
	return out.String(), err
}

func TestLogFormatJSON(t *testing.T) {
	out, err := logWith(t, "--log-format", "json", "-v")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines at -v, got:\n%s", out)
	}
	var recs []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not one JSON object a line: %v\n%s", err, l)
		}
		recs = append(recs, m)
	}
	for i, want := range []map[string]any{
		{"level": "info", "msg": "reconcile done", "controller": "testruns", "result": "success", "name": "demo-pr1", "v": 0.0},
		{"level": "debug", "msg": "resync", "keys": 3.0, "v": 1.0},
		{"level": "error", "msg": "reconcile done", "result": "error", "error": "engine busy"},
	} {
		for k, v := range want {
			if recs[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v\n%s", i, k, recs[i][k], v, lines[i])
			}
		}
		if _, ok := recs[i]["ts"].(string); !ok {
			t.Errorf("line %d has no ts: %s", i, lines[i])
		}
	}
}

func TestLogFormatConsoleIsTheDefault(t *testing.T) {
	out, err := logWith(t)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "INFO") || !strings.Contains(lines[0], "reconcile done") ||
		!strings.Contains(lines[0], `"controller": "testruns"`) || !strings.Contains(lines[1], "ERROR") || strings.HasPrefix(lines[0], "{") {
		t.Errorf("console at V(0): want an INFO and an ERROR line, not JSON, got:\n%s", out)
	}
}

func TestLogFormatInvalid(t *testing.T) {
	_, err := logWith(t, "--log-format", "xml")
	if cli.ExitCode(err) != cli.ExitInvalid || !strings.Contains(err.Error(), "want console or json") {
		t.Errorf("--log-format xml: %v (exit %d), want exit 2", err, cli.ExitCode(err))
	}
}
