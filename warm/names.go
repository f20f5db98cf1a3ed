package warm

import "strings"

// WarmLooking returns the recipe of a stack named warm-<recipe>, and whether it is one.
func WarmLooking(stack string) (string, bool) {
	r, ok := strings.CutPrefix(stack, "warm-")
	return r, ok && r != ""
}
