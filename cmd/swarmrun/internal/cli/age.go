package cli

import (
	"fmt"
	"time"
)

// Age is kubectl's short age of t at now: 42s, 5m, 3h, 2d; "<unknown>" for the zero time.
func Age(now, t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// ShortCommit is a commit's first 8 characters, as tables show it; "-" for none.
func ShortCommit(c string) string {
	switch {
	case len(c) > 8:
		return c[:8]
	case c == "":
		return "-"
	}
	return c
}
