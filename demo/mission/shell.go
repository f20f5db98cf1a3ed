package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// shell runs the commands of the demo, printing each before it runs as a person would type it:
// swarmrun for the binary, and the environment it shares (SWARMRUN_SERVER) said once.
type shell struct {
	out io.Writer
	bin string   // the swarmrun binary
	env []string // the environment of every command
}

// step prints a step's heading.
func (s *shell) step(format string, args ...any) {
	fmt.Fprintf(s.out, "\n\033[1m==> %s\033[0m\n", fmt.Sprintf(format, args...))
}

// say prints a line of narration.
func (s *shell) say(format string, args ...any) {
	fmt.Fprintf(s.out, "    %s\n", fmt.Sprintf(format, args...))
}

// command makes the command name args: "swarmrun" is the binary under test.
func (s *shell) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := name
	if name == "swarmrun" {
		path = s.bin
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = s.env
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run prints and runs a command, its output going to the demo's; a non-zero exit is an error.
func (s *shell) run(ctx context.Context, name string, args ...string) error {
	_, err := s.runCode(ctx, name, args...)
	return err
}

// runCode prints and runs a command and returns its exit code; an exit code is not an error,
// a command that could not run is.
func (s *shell) runCode(ctx context.Context, name string, args ...string) (int, error) {
	fmt.Fprintf(s.out, "$ %s\n", shellQuote(append([]string{name}, args...)))
	cmd := s.command(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if code := exit.ExitCode(); code >= 0 {
			return code, fmt.Errorf("%s exited %d", name, code)
		}
	}
	if err != nil {
		return -1, fmt.Errorf("%s: %w", name, err)
	}
	return 0, nil
}

// quiet runs a command without printing it and returns its standard output; the error holds
// its standard error.
func (s *shell) quiet(ctx context.Context, name string, args ...string) (string, error) {
	cmd := s.command(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %w: %s", shellQuote(append([]string{name}, args...)), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// background prints and starts a command whose output goes to the demo's until stop is called;
// stop ends it by its PID and waits for it.
func (s *shell) background(ctx context.Context, name string, args ...string) (stop func(), err error) {
	fmt.Fprintf(s.out, "$ %s &\n", shellQuote(append([]string{name}, args...)))
	cmd := s.command(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}, nil
}

// shellQuote joins args as a POSIX shell would read them back.
func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=/.,:+@%{}") == "" {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// writeSecret writes a file only its owner may read, as swarmrun requires of token files.
func writeSecret(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}
