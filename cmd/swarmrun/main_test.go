package main

import "testing"

// serve carries the flags of every runner it runs: the controllers' and the garbage
// collector's.
func TestServeFlags(t *testing.T) {
	root := newRootCommand()
	serve, _, err := root.Find([]string{"serve"})
	if err != nil || serve.Name() != "serve" {
		t.Fatalf("no serve command: %v", err)
	}
	for _, name := range []string{"workers", "resync", "reconcile-timeout", "gc-interval", "gc-grace", "gc-adopt-warm", "gc-max-deletions"} {
		if serve.Flags().Lookup(name) == nil {
			t.Errorf("serve has no --%s", name)
		}
	}
	if err := serve.Flags().Parse([]string{"--gc-interval", "1m", "--workers", "3"}); err != nil {
		t.Errorf("serve flags: %v", err)
	}
}
