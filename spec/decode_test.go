package spec

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"spec.stages[2]", "spec.stages"},
		{"spec.stages", "spec"},
		{"spec", ""},
		{"", ""},
		{"spec.checks.install[0].http.port", "spec.checks.install[0].http"},
		{"spec.checks.install[0].http", "spec.checks.install[0]"},
		{"metadata.labels[example.org/tier]", "metadata.labels"},
		{"spec.overlays[0][services][app]", "spec.overlays[0][services]"},
	}
	for _, tt := range tests {
		if got := parent(tt.in); got != tt.want {
			t.Errorf("parent(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	fields := map[string]reflect.Type{"recipe": nil, "head": nil, "stages": nil, "upgradeBase": nil, "teardown": nil}
	tests := []struct{ in, want string }{
		{"recipie", ` (did you mean "recipe"?)`},
		{"Recipe", ` (did you mean "recipe"?)`},
		{"upgradebase", ` (did you mean "upgradeBase"?)`},
		{"stage", ` (did you mean "stages"?)`},
		{"teardownPolicy", ""},
		{"zzz", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, fields); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSyntaxError(t *testing.T) {
	tests := []struct {
		in       string
		wantLine int
		wantMsg  string
	}{
		{"yaml: line 4: did not find expected key", 4, "did not find expected key"},
		{"yaml: control characters are not allowed", 0, "control characters are not allowed"},
		{"yaml: line x: odd", 0, "line x: odd"},
	}
	for _, tt := range tests {
		line, msg := syntaxError(errors.New(tt.in))
		if line != tt.wantLine || msg != tt.wantMsg {
			t.Errorf("syntaxError(%q) = %d, %q; want %d, %q", tt.in, line, msg, tt.wantLine, tt.wantMsg)
		}
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", 40) // two bytes a rune, so the cut falls inside one
	got := clip(long)
	if len(got) > 63 || !strings.HasSuffix(got, "...") || !utf8.ValidString(got) {
		t.Errorf("clip(%d bytes) = %q", len(long), got)
	}
	if clip("short") != "short" {
		t.Error("clip changed a short string")
	}
}
