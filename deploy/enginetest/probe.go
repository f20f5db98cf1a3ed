package enginetest

// The probe image (testdata/probe) is the one program the tests run; these helpers say how
// to make it misbehave.

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
)

// ProbeExec returns a command for a swarmrun-probe container that exits with ProbeExecCode.
func ProbeExec() []string { return []string{"/probe", "-exit", "3"} }

// ProbeExecCode is the exit code of ProbeExec.
const ProbeExecCode = 3

// ProbeCrash makes a swarmrun-probe container exit with code 1 shortly after it starts.
func ProbeCrash(_ *testing.T, _ string, spec *swarm.ContainerSpec) {
	spec.Args = []string{"-exit", "1", "-after", "100ms"}
}

// ProbeNeverHealthy gives a swarmrun-probe container a healthcheck against a port nothing
// listens on, checked every half second, failing after one retry.
func ProbeNeverHealthy(_ *testing.T, _ string, spec *swarm.ContainerSpec) {
	spec.Healthcheck = &container.HealthConfig{
		Test:     []string{"CMD", "/probe", "-health", "http://127.0.0.1:9/"},
		Interval: 500 * time.Millisecond, Timeout: time.Second, Retries: 1,
	}
}
