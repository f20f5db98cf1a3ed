package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

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
	// TokenFile is the file that holds the bearer token (--token-file).
	TokenFile string
	// Token is the bearer token: TokenFile's content, else SWARMRUN_TOKEN. It is read after
	// the flags are parsed. No flag carries the token itself: a command line is visible to
	// every user of the machine.
	Token string
	// CAFile is the PEM file of the CA an https:// API server's certificate must chain to
	// (--ca-file, SWARMRUN_CA_FILE).
	CAFile string
	// LogFormat is how logs are written (--log-format): LogConsole or LogJSON.
	LogFormat string
}

// Log formats (--log-format).
const (
	// LogConsole is zap's console encoding, for people: time, level, logger, caller, message,
	// then the key/values as JSON.
	LogConsole = "console"
	// LogJSON is one JSON object a line, for log collectors: ts (ISO 8601), level, logger,
	// caller, msg, v (the logr verbosity of info lines), then the key/values.
	LogJSON = "json"
)

// Bind registers the global flags on the root command, and reads the token once they are
// parsed. A token file open to group or others fails the command with exit code 2.
func (g *Globals) Bind(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&g.DataDir, "data-dir", DefaultDataDir(), "directory for the store, the API socket, recipe caches and run results")
	f.StringVar(&g.DockerHost, "docker-host", "", "Docker engine address (default: DOCKER_HOST or the local socket)")
	f.CountVarP(&g.Verbosity, "verbose", "v", "more log output (-v, -vv)")
	f.StringVar(&g.Server, "server", os.Getenv("SWARMRUN_SERVER"), "API server: unix socket path or http(s) URL (default: the socket under --data-dir; env SWARMRUN_SERVER)")
	f.StringVar(&g.TokenFile, "token-file", "", "file holding the bearer token of a TCP API server, mode 0600 (default: env SWARMRUN_TOKEN)")
	f.StringVar(&g.CAFile, "ca-file", os.Getenv("SWARMRUN_CA_FILE"), "PEM file of the CA that signed an https:// API server's certificate (default: the system's; env SWARMRUN_CA_FILE)")
	f.StringVar(&g.LogFormat, "log-format", LogConsole, "log encoding on stderr: console (for people) or json (one object a line, for log collectors)")
	// The token's environment default is read after parsing, never as a flag default: flag
	// defaults are printed by --help.
	cmd.PersistentPreRunE = func(*cobra.Command, []string) error {
		if g.LogFormat != LogConsole && g.LogFormat != LogJSON {
			return Invalid(fmt.Errorf("--log-format %q: want console or json", g.LogFormat))
		}
		if g.TokenFile == "" {
			g.Token = os.Getenv("SWARMRUN_TOKEN")
			return nil
		}
		token, err := ReadTokenFile(g.TokenFile)
		if err != nil {
			return Invalid(err)
		}
		g.Token = token
		return nil
	}
}

// ReadTokenFile returns the token in path, without surrounding white space. The file must be
// open to its owner only: a token file that group or others can read, or write, is refused,
// as ssh refuses such a key.
func ReadTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("token file %s has mode %#o, open to group or others: make it 0600 (chmod 600 %s)", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", fmt.Errorf("token file %s: %w", path, err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return token, nil
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

// Logger builds the process logger on stderr (see LoggerTo).
func (g *Globals) Logger() logr.Logger { return g.LoggerTo(os.Stderr) }

// LoggerTo builds the process logger, writing to w in the --log-format encoding, with V(n)
// shown for n ≤ the -v count. Stack traces are left out: errors carry their causes.
func (g *Globals) LoggerTo(w io.Writer) logr.Logger {
	var (
		enc  zapcore.Encoder
		opts []zapr.Option
	)
	if g.LogFormat == LogJSON {
		ec := zap.NewProductionEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(ec)
		opts = append(opts, zapr.LogInfoLevel("v"))
	} else {
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(ec)
	}
	core := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), zap.NewAtomicLevelAt(zapcore.Level(-g.Verbosity)))
	return zapr.NewLoggerWithOptions(zap.New(core, zap.AddCaller(), zap.ErrorOutput(zapcore.Lock(os.Stderr))), opts...)
}
