//go:build integration

package enginetest

import (
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// TestRealEngine runs the contract against the local swarm. Every object it creates is named
// it-ct-<random>_... and labelled with that namespace, which the cleanup removes.
func TestRealEngine(t *testing.T) {
	c := swarmtest.RequireSwarm(t)
	swarmtest.RequireImages(t, c, swarmtest.ProbeV1, swarmtest.ProbeV2)
	Run(t, func(t *testing.T) (deploy.Engine, Env) {
		return c, Env{
			Image:        swarmtest.ProbeV1,
			Image2:       swarmtest.ProbeV2,
			MissingImage: "swarmrun-probe:does-not-exist",
			ImageFile:    "/probe",
			Namespace:    func(t *testing.T) string { return swarmtest.StackName(t, c, "ct") },
			Crash:        ProbeCrash,
			NeverHealthy: ProbeNeverHealthy,
			Exec:         ProbeExec(),
			ExecCode:     ProbeExecCode,
			Timeout:      60 * time.Second,
			Poll:         100 * time.Millisecond,
		}
	})
}
