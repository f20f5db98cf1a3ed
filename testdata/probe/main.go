// Command probe is the single test program behind every image the swarmrun tests and demo
// deploy (swarmrun-probe:1 and swarmrun-probe:2, FROM scratch, binary at /probe).
//
// The images cannot be pulled from a registry on the test machines, so one small static
// binary plays every role a test needs: an HTTP service (the default, so a bare image with no
// arguments is healthy), its own healthcheck client (the image has no shell or curl), a
// crash-looping or short-lived task, a one-shot checking job and an idle placeholder.
//
// Modes, chosen by flag (at most one):
//
//	(none)                  HTTP server on -listen (default :8080) with data dir -data
//	-health [URL]           GET URL (default http://127.0.0.1:8080/healthz), exit 0 on 2xx
//	-exit CODE [-after D]   wait D (default 0), then exit with CODE
//	-check URL [...]        GET (or PUT with -put VALUE) URL until it matches, exit 0 or 1
//	-sleep D                do nothing for D; 0 means forever
//	-version                print the built-in version
//
// The image has no /bin/sh, so a healthcheck must use the exec form
// (compose `test: ["CMD", "/probe", "-health"]`). The shell form, which is also what
// `docker service create --health-cmd` produces, never runs: the container stays `starting`
// and swarm replaces it (observed: the task ends `complete`, exit 0, every ~11 s).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version is the image's identity, injected with -ldflags "-X main.version=N"; tests tell
// swarmrun-probe:1 from swarmrun-probe:2 only by this string.
var version = "dev"

// Defaults shared by the flags and the tests.
const (
	defaultListen    = ":8080"
	defaultDataDir   = "/data"
	defaultHealthURL = "http://127.0.0.1:8080/healthz"
)

// config holds every flag; each mode reads only its own fields.
type config struct {
	listen  string
	dataDir string

	health bool

	exitCode int
	after    time.Duration

	check        checkOptions
	checkURL     string
	putValue     string
	sleepFor     time.Duration
	printVersion bool

	// set records which flags appeared on the command line, because a zero value
	// (-exit 0, -sleep 0, -put "") is meaningful and cannot mark "absent".
	set map[string]bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args and runs one mode, returning the process exit code; it is main without
// the os.Exit so that the mode dispatch stays testable.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, rest, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	switch mode, err := cfg.mode(); {
	case err != nil:
		fmt.Fprintln(stderr, "probe:", err)
		return 2
	case mode == "version":
		fmt.Fprintln(stdout, version)
		return 0
	case mode == "health":
		return runHealth(ctx, healthURL(rest), stderr)
	case mode == "check":
		return runCheck(ctx, cfg.checkURL, cfg.check, stdout)
	case mode == "exit":
		// A stop request ends the wait early: swarm would otherwise wait out the grace
		// period before killing a PID 1 that ignores SIGTERM.
		if !wait(ctx, cfg.after) {
			return 0
		}
		return cfg.exitCode
	case mode == "sleep":
		if cfg.sleepFor <= 0 {
			<-ctx.Done()
			return 0
		}
		wait(ctx, cfg.sleepFor)
		return 0
	default:
		return runServer(ctx, cfg, stdout, stderr)
	}
}

// parseFlags reads the flags, taking -listen and -data defaults from PROBE_LISTEN and
// PROBE_DATA so a compose file can set them without overriding the entrypoint's arguments.
func parseFlags(args []string, stderr io.Writer) (config, []string, error) {
	cfg := config{set: map[string]bool{}}
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.listen, "listen", envOr("PROBE_LISTEN", defaultListen), "server listen address")
	fs.StringVar(&cfg.dataDir, "data", envOr("PROBE_DATA", defaultDataDir), "directory for /data/KEY values")
	fs.BoolVar(&cfg.health, "health", false, "GET the URL argument (default "+defaultHealthURL+") and exit 0 on 2xx")
	fs.IntVar(&cfg.exitCode, "exit", 0, "exit with this code after -after")
	fs.DurationVar(&cfg.after, "after", 0, "wait before -exit")
	fs.StringVar(&cfg.checkURL, "check", "", "one-shot job: request this URL until it matches")
	fs.IntVar(&cfg.check.expectStatus, "expect-status", 200, "-check: wanted status code")
	fs.StringVar(&cfg.check.contains, "contains", "", "-check: wanted substring of the body")
	fs.IntVar(&cfg.check.attempts, "retries", 5, "-check: attempts before giving up")
	fs.DurationVar(&cfg.check.interval, "interval", 2*time.Second, "-check: pause between attempts")
	fs.StringVar(&cfg.putValue, "put", "", "-check: send a PUT with this body instead of a GET")
	fs.DurationVar(&cfg.sleepFor, "sleep", 0, "do nothing for this long (0 = forever)")
	fs.BoolVar(&cfg.printVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return cfg, nil, err
	}
	fs.Visit(func(f *flag.Flag) { cfg.set[f.Name] = true })
	if cfg.set["put"] {
		cfg.check.put = &cfg.putValue
	}
	return cfg, fs.Args(), nil
}

// mode names the single mode the flags select; two modes at once are a mistake in a compose
// file that should fail loudly rather than run whichever mode wins.
func (c config) mode() (string, error) {
	var modes []string
	for _, m := range []string{"version", "health", "check", "exit", "sleep"} {
		if c.set[m] {
			modes = append(modes, m)
		}
	}
	switch len(modes) {
	case 0:
		return "server", nil
	case 1:
		return modes[0], nil
	default:
		return "", fmt.Errorf("conflicting modes %v: choose one", modes)
	}
}

// healthURL is the optional positional argument of -health.
func healthURL(rest []string) string {
	if len(rest) > 0 {
		return rest[0]
	}
	return defaultHealthURL
}

// wait blocks for d and reports whether it ran to the end rather than being stopped by ctx.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// envOr returns the environment variable key, or def when it is unset or empty.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
