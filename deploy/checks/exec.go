package checks

import (
	"context"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/internal/taskexec"
)

// runExec runs the command in one running task container of the service and returns its
// output and exit code.
func (r *Runner) runExec(ctx context.Context, stack string, e *v1alpha1.ExecCheck) (string, int, error) {
	full := stack + "_" + e.Service
	id, err := taskexec.Running(ctx, r.engine, full)
	if err != nil {
		return "", 0, err
	}
	return taskexec.Run(ctx, r.engine, id, full, e.Command)
}
