package checks

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// runExec runs the command in one running task container of the service and returns its
// output and exit code.
func (r *Runner) runExec(ctx context.Context, stack string, e *v1alpha1.ExecCheck) (string, int, error) {
	full := stack + "_" + e.Service
	ctrs, err := r.engine.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.swarm.service.name="+full),
		filters.Arg("status", "running"))})
	if err != nil {
		return "", 0, fmt.Errorf("find a container of %s: %w", full, err)
	}
	if len(ctrs) == 0 {
		return "", 0, fmt.Errorf("no running container of service %s on this node", e.Service)
	}
	exec, err := r.engine.ContainerExecCreate(ctx, ctrs[0].ID, container.ExecOptions{
		Cmd: e.Command, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return "", 0, fmt.Errorf("exec in %s: %w", full, err)
	}
	att, err := r.engine.ContainerExecAttach(ctx, exec.ID, container.ExecAttachOptions{})
	if err != nil {
		return "", 0, fmt.Errorf("exec in %s: %w", full, err)
	}
	defer att.Close()
	var buf bytes.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(&buf, &buf, io.LimitReader(att.Reader, 1<<20))
		done <- err
	}()
	select {
	case <-ctx.Done():
		return "", 0, fmt.Errorf("exec in %s did not finish: %w", full, ctx.Err())
	case err := <-done:
		if err != nil {
			return buf.String(), 0, fmt.Errorf("read exec output: %w", err)
		}
	}
	st, err := r.engine.ContainerExecInspect(ctx, exec.ID)
	if err != nil {
		return buf.String(), 0, fmt.Errorf("exec result in %s: %w", full, err)
	}
	return buf.String(), st.ExitCode, nil
}
