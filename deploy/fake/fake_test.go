package fake_test

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/enginetest"
	"github.com/swarmrun/swarmrun/deploy/fake"
)

const (
	probe1  = "swarmrun-probe:1"
	probe2  = "swarmrun-probe:2"
	missing = "swarmrun-probe:does-not-exist"
)

// TestContract runs the engine contract against the fake in automatic mode on the wall clock,
// behaving like the probe image: "-exit N" crashes, the healthcheck against port 9 fails.
func TestContract(t *testing.T) {
	var n atomic.Int64
	enginetest.Run(t, func(t *testing.T) (deploy.Engine, enginetest.Env) {
		f := fake.New(fake.Options{Images: []string{probe1, probe2}})
		emulateProbe(f)
		return f, enginetest.Env{
			Image: probe1, Image2: probe2, MissingImage: missing, ImageFile: "/probe",
			Namespace: func(t *testing.T) string { return fmt.Sprintf("ct-%d", n.Add(1)) },
			Crash:     enginetest.ProbeCrash,
			NeverHealthy: func(t *testing.T, service string, spec *swarm.ContainerSpec) {
				enginetest.ProbeNeverHealthy(t, service, spec)
				f.NeverHealthy(service)
			},
			Exec: enginetest.ProbeExec(), ExecCode: enginetest.ProbeExecCode,
			Timeout: 20 * time.Second, Poll: 10 * time.Millisecond,
		}
	})
}

// emulateProbe makes the fake's tasks and execs behave like the probe program's flags, and
// gives its containers the image's one file.
func emulateProbe(f *fake.Fake) {
	for _, img := range []string{probe1, probe2} {
		f.SetImageFiles(img, map[string]string{"/probe": "\x7fELF"})
	}
	f.CrashWhen(func(_ string, spec swarm.TaskSpec) (int, bool) {
		return exitFlag(spec.ContainerSpec.Args)
	})
	f.SetExec(func(_ string, cmd []string) fake.ExecResult {
		if code, ok := exitFlag(cmd); ok {
			return fake.ExecResult{ExitCode: code}
		}
		return fake.ExecResult{}
	})
}

// exitFlag finds "-exit N" in args.
func exitFlag(args []string) (int, bool) {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-exit" {
			code, err := strconv.Atoi(args[i+1])
			return code, err == nil
		}
	}
	return 0, false
}
