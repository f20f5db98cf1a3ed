package testkit

import (
	"testing"
	"time"
)

// Eventually polls cond every interval until it returns true, or fails the test with msg
// once timeout has passed. Tests wait this way, never by sleeping.
func Eventually(t testing.TB, timeout, interval time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: "+msg, append([]any{timeout}, args...)...)
		}
		time.Sleep(interval)
	}
}
