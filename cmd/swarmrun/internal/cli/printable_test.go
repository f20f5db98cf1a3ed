package cli_test

import (
	"testing"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
)

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, ünïcode ✓", "plain text, ünïcode ✓"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"\x1b]0;owned\x07", `\x1b]0;owned\a`},
		{"line\nnext\r", `line\nnext\r`},
		{"tab\there", `tab\there`},
		{"\u009b2J", `\u009b2J`},
		{"abc\u202edef", `abc\u202edef`},
		{"del\x7f", `del\x7f`},
		{"bad \xff byte", "bad \uFFFD byte"},
	}
	for _, tt := range tests {
		if got := cli.Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
