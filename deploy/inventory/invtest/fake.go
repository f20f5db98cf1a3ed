package invtest

import (
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/inventory"
)

// Swarm is a fake engine whose stacks (one service each, with a network, on image) were
// created at created.
func Swarm(t testing.TB, created time.Time, image string, stacks ...Stack) *fake.Fake {
	t.Helper()
	f := fake.New(fake.Options{Now: fake.NewClock(created).Now, Images: []string{image}})
	for _, s := range stacks {
		s.Image, s.Services, s.Network = image, 1, true
		if err := Create(t.Context(), f, s); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// Owned are swarmrun's ownership labels with one owner key (swarmrun.dev/testrun or
// swarmrun.dev/warm) set to value.
func Owned(key, value string) map[string]string {
	return map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, key: value}
}

// Live names the stacks that still have services, comma separated, in order.
func Live(t testing.TB, e deploy.Engine) string {
	t.Helper()
	inv, err := inventory.List(t.Context(), e)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range inv.StackNames() {
		if len(inv.Stacks[n].Services) > 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}
