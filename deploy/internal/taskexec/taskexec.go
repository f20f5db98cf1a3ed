package taskexec

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/swarmrun/swarmrun/deploy"
)

// MaxOutput bounds the output Run reads; a command that prints more is cut there.
const MaxOutput = 1 << 20

// Running returns the ID of a running container of the service with the full name service.
// Exec reaches containers through the local engine, so the task must run on the node
// swarmrun talks to (always true on a single-node swarm).
func Running(ctx context.Context, e deploy.Engine, service string) (string, error) {
	ctrs, err := e.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.swarm.service.name="+service),
		filters.Arg("status", "running"))})
	if err != nil {
		return "", fmt.Errorf("find a container of %s: %w", service, err)
	}
	if len(ctrs) == 0 {
		return "", fmt.Errorf("no running container of service %s on this node", service)
	}
	return ctrs[0].ID, nil
}

// Run runs cmd in the container id (named name in errors) and returns its output, stdout
// and stderr interleaved, and its exit code. An error means the command's outcome is unknown.
func Run(ctx context.Context, e deploy.Engine, id, name string, cmd []string) (string, int, error) {
	exec, err := e.ContainerExecCreate(ctx, id, container.ExecOptions{
		Cmd: cmd, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return "", 0, fmt.Errorf("exec in %s: %w", name, err)
	}
	att, err := e.ContainerExecAttach(ctx, exec.ID, container.ExecAttachOptions{})
	if err != nil {
		return "", 0, fmt.Errorf("exec in %s: %w", name, err)
	}
	defer att.Close()
	var buf bytes.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(&buf, &buf, io.LimitReader(att.Reader, MaxOutput))
		done <- err
	}()
	select {
	case <-ctx.Done():
		return "", 0, fmt.Errorf("exec in %s did not finish: %w", name, ctx.Err())
	case err := <-done:
		if err != nil {
			return buf.String(), 0, fmt.Errorf("read exec output: %w", err)
		}
	}
	st, err := e.ContainerExecInspect(ctx, exec.ID)
	if err != nil {
		return buf.String(), 0, fmt.Errorf("exec result in %s: %w", name, err)
	}
	return buf.String(), st.ExitCode, nil
}
