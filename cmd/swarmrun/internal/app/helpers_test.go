package app_test

import (
	"path/filepath"
	"testing"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/internal/testkit"
)

// acceptance is what a test of the controllers on the acceptance recipe needs: a fake engine
// with the probe images, a data dir, a store in it (closed when the test ends) and the
// recipe's repository with its commits (testkit.Standard).
func acceptance(t *testing.T) (f *fake.Fake, dir string, st *store.Store, source string, commits []string) {
	t.Helper()
	f = fake.New(fake.Options{Images: []string{testkit.ProbeV1, testkit.ProbeV2}, FastRollouts: true})
	dir = t.TempDir()
	st, err := store.Open(filepath.Join(dir, "swarmrun.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	source, commits = testkit.Standard(t, "main")
	return f, dir, st, source, commits
}
