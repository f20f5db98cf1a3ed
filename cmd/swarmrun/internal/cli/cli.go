// Package cli holds what every swarmrun command shares: the global flags, the logger, and the
// exit-code contract (0 success, 1 not converged / not found / timed out / red, 2 bad input,
// usage or engine errors).
package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Exit codes scripts can rely on.
const (
	ExitOK      = 0
	ExitFailed  = 1 // not converged, not found, wait timed out, run red
	ExitInvalid = 2 // bad input, usage, engine or API errors
)

// ExitError carries the exit code a command wants, with the message to print.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Failed wraps err so the command exits 1.
func Failed(err error) error { return &ExitError{Code: ExitFailed, Err: err} }

// Invalid wraps err so the command exits 2.
func Invalid(err error) error { return &ExitError{Code: ExitInvalid, Err: err} }

// ExitCode maps a command's error to its exit code: an ExitError's own code; 2 otherwise
// (cobra's usage errors, engine and API errors).
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitInvalid
}

// Globals are the flags every command shares.
type Globals struct {
	DataDir    string
	DockerHost string
	Verbosity  int
	Server     string
	Token      string
}

// Bind registers the global flags on the root command.
func (g *Globals) Bind(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&g.DataDir, "data-dir", DefaultDataDir(), "directory for the store, the API socket, recipe caches and run results")
	f.StringVar(&g.DockerHost, "docker-host", "", "Docker engine address (default: DOCKER_HOST or the local socket)")
	f.CountVarP(&g.Verbosity, "verbose", "v", "more log output (-v, -vv)")
	f.StringVar(&g.Server, "server", os.Getenv("SWARMRUN_SERVER"), "API server: unix socket path or http(s) URL (default: the socket under --data-dir; env SWARMRUN_SERVER)")
	f.StringVar(&g.Token, "token", "", "bearer token for a TCP API server (default: env SWARMRUN_TOKEN)")
	// The token's environment default is read after parsing, never as a flag default: flag
	// defaults are printed by --help.
	cmd.PersistentPreRun = func(*cobra.Command, []string) {
		if g.Token == "" {
			g.Token = os.Getenv("SWARMRUN_TOKEN")
		}
	}
}

// DefaultDataDir is $XDG_STATE_HOME/swarmrun, else /var/lib/swarmrun for root, else
// ~/.local/state/swarmrun.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "swarmrun")
	}
	if os.Geteuid() == 0 {
		return "/var/lib/swarmrun"
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "swarmrun")
	}
	return ".swarmrun"
}

// SocketPath is the API's unix socket under the data dir.
func (g *Globals) SocketPath() string { return filepath.Join(g.DataDir, "swarmrun.sock") }

// Logger builds the process logger: zap in console form on stderr, V(n) shown for n ≤ -v count.
func (g *Globals) Logger() logr.Logger {
	cfg := zap.NewDevelopmentConfig()
	cfg.Level = zap.NewAtomicLevelAt(zapcore.Level(-g.Verbosity))
	cfg.DisableStacktrace = true
	cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
	z, err := cfg.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "logger:", err)
		return logr.Discard()
	}
	return zapr.NewLogger(z)
}
