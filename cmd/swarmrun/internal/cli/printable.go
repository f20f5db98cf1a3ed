package cli

import (
	"strconv"
	"strings"
	"unicode"
)

// Printable returns s with every control and formatting character escaped as Go escapes it
// (\x1b, \n, \u202e), so that text from objects, events and recipes (which a pull request may
// write) cannot move the cursor, recolour, retitle or rewrite a terminal. Invalid UTF-8 comes
// out as U+FFFD.
func Printable(s string) string {
	if !strings.ContainsFunc(s, unprintable) && strings.ToValidUTF8(s, "\uFFFD") == s {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unprintable(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unprintable: C0 and C1 controls, DEL, and format characters such as the bidirectional
// overrides.
func unprintable(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }
