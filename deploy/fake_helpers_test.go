package deploy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/system"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// newFake is an automatic in-memory swarm with both probe images present.
func newFake(t *testing.T) *fake.Fake {
	t.Helper()
	return fake.New(fake.Options{Images: []string{swarmtest.ProbeV1, swarmtest.ProbeV2}})
}

// mutations are the engine methods that change the swarm.
var mutations = []string{
	"NetworkCreate", "SecretCreate", "ConfigCreate", "ServiceCreate", "ServiceUpdate",
	"ServiceRemove", "NetworkRemove", "SecretRemove", "ConfigRemove", "VolumeRemove",
}

// mutationCalls counts the calls of every mutating method, by method, omitting zeros.
func mutationCalls(f *fake.Fake) map[string]int {
	out := map[string]int{}
	for _, m := range mutations {
		if n := f.Calls(m); n > 0 {
			out[m] = n
		}
	}
	return out
}

// notManager is an engine whose node is not a swarm manager.
type notManager struct{ *fake.Fake }

func (n notManager) Info(ctx context.Context) (system.Info, error) {
	info, err := n.Fake.Info(ctx)
	info.Swarm.ControlAvailable = false
	return info, err
}

var _ deploy.Engine = notManager{}

// manyServices writes a compose file with n idle services and returns its directory.
func manyServices(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("version: \"3.8\"\nservices:\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%02d:\n    image: %s\n    command: [\"-sleep\", \"0\"]\n", i, swarmtest.ProbeV1)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yml"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
