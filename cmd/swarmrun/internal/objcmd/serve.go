package objcmd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/statuspage"
	"github.com/swarmrun/swarmrun/internal/metrics"
)

// Runner runs beside the API in serve until ctx ends, over the served store.
type Runner func(ctx context.Context, s Served) error

// Served is what serve shares with its runners.
type Served struct {
	// Store is the store the API serves.
	Store *store.Store
	// Registry is served at /metrics: runners register their collectors on it (the
	// controllers do).
	Registry prometheus.Registerer
	// Metrics are swarmrun's own metrics, on Registry, for what runs, warm stacks, garbage
	// collection and webhooks did.
	Metrics *metrics.Metrics
	// GC keeps the recent removals of garbage collection for the status page.
	GC *statuspage.GCLog
}

// listenFlags are serve's flags for the TCP listener.
type listenFlags struct {
	addr, tlsCert, tlsKey string
	insecure              bool
	// publicStatus and publicMetrics serve the status page and /metrics on TCP without the
	// token.
	publicStatus, publicMetrics bool
}

func newServeCommand(g *cli.Globals, o Options) *cobra.Command {
	var (
		lf    listenFlags
		grace time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API (and the controllers) over the store under --data-dir",
		Long: `Serve the API on the unix socket under --data-dir (mode 0600) and, with --listen, on TCP,
where every request needs the bearer token (--token-file, mode 0600, or SWARMRUN_TOKEN). TCP is
served over TLS 1.2+ with --tls-cert and --tls-key; plain HTTP needs --insecure, and then the
token and every object cross the network unencrypted. Clients may create, change and delete
objects; only the controllers write status.

Each listener holds at most 512 connections, gives a request 5s for its headers and 30s more
for its body, and closes connections idle for 60s; watches are not cut.

Beside the API, serve serves a status page at / (TestRuns with their level, conditions and
result files, Recipes with their canonical and warm stack, recent garbage collection), each
run's results.json, junit.xml and summary.md at /runs/NAME/, a badge per recipe at
/badge/RECIPE.svg, and Prometheus metrics at /metrics. They have the API's auth: on the socket
anyone who can open it, on TCP the token; --public-status serves the page, the result files
and the badges on TCP without the token, and --public-metrics /metrics. The page never shows
env values, and only GET and HEAD reach it without the token.

Beside the API run the controllers over the same store: the TestRun controller (which promotes
green runs of warm recipes), the Recipe controller (which keeps warm-<recipe> at each warm
recipe's canonical version and removes it, volumes kept, when the recipe stops being warm or
is deleted), the Repository controller (which turns authorised "!testme" comments on pull
requests into TestRuns and posts their verdicts back) and garbage collection every
--gc-interval.

Every listener also takes the forges' webhook deliveries at POST /hooks/forge/<repository>.
They need no bearer token: each is authenticated by its HMAC signature under the Repository's
webhook secret, read from --forge-secrets-dir/<forge host>/ like the forge token.
SIGTERM or SIGINT shuts down gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tlsConfig, err := lf.check(g.Token)
			if err != nil {
				return cli.Invalid(err)
			}
			ctx := cmd.Context()
			if _, err := logr.FromContext(ctx); err != nil {
				ctx = logr.NewContext(ctx, g.Logger())
			}
			return serve(ctx, g, o, lf, tlsConfig, grace)
		},
	}
	f := cmd.Flags()
	f.StringVar(&lf.addr, "listen", "", "also serve on this TCP address (host:port); needs a token and --tls-cert/--tls-key or --insecure")
	f.StringVar(&lf.tlsCert, "tls-cert", "", "PEM certificate (chain) to serve --listen over TLS with")
	f.StringVar(&lf.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	f.BoolVar(&lf.insecure, "insecure", false, "serve --listen as plain HTTP, without TLS: the token and every object cross the network unencrypted")
	f.BoolVar(&lf.publicStatus, "public-status", false, "serve the status page (/), the run result files (/runs/) and the badges (/badge/) on --listen without the token, read-only")
	f.BoolVar(&lf.publicMetrics, "public-metrics", false, "serve /metrics on --listen without the token, for a Prometheus that does not send it")
	f.DurationVar(&grace, "grace", 10*time.Second, "how long shutdown waits for requests in flight")
	if o.ServeFlags != nil {
		o.ServeFlags(f)
	}
	return cmd
}

// check refuses listener flags that do not go together and loads the TLS certificate. It
// returns no TLS configuration without --listen, or with --insecure.
func (lf listenFlags) check(token string) (*tls.Config, error) {
	switch {
	case lf.addr == "" && (lf.tlsCert != "" || lf.tlsKey != "" || lf.insecure || lf.publicStatus || lf.publicMetrics):
		return nil, errors.New("--tls-cert, --tls-key, --insecure, --public-status and --public-metrics apply to --listen, which is not set")
	case lf.addr == "":
		return nil, nil
	case token == "":
		return nil, errors.New("--listen needs a token (--token-file or SWARMRUN_TOKEN): TCP requests are authenticated")
	case lf.insecure && (lf.tlsCert != "" || lf.tlsKey != ""):
		return nil, errors.New("--insecure serves without TLS: give it or --tls-cert/--tls-key, not both")
	case lf.insecure:
		return nil, nil
	case lf.tlsCert == "" && lf.tlsKey == "":
		return nil, fmt.Errorf("--listen %s needs TLS: give --tls-cert and --tls-key, or --insecure to serve plain HTTP, where the token and every object cross the network unencrypted", lf.addr)
	case lf.tlsCert == "" || lf.tlsKey == "":
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	return server.LoadTLS(lf.tlsCert, lf.tlsKey)
}

func serve(ctx context.Context, g *cli.Globals, o Options, lf listenFlags, tlsConfig *tls.Config, grace time.Duration) error {
	log := logr.FromContextOrDiscard(ctx)
	st, err := store.Open(StorePath(g), store.Options{Now: o.Now})
	if err != nil {
		return err
	}
	defer st.Close()
	reg := metrics.NewRegistry()
	served := Served{Store: st, Registry: reg, GC: statuspage.NewGCLog(0, o.Now)}
	if served.Metrics, err = metrics.New(reg); err != nil {
		return err
	}
	page, err := statuspage.New(statuspage.Options{Store: st, DataDir: g.DataDir, GC: served.GC, Now: o.Now})
	if err != nil {
		return err
	}
	metricsHandler := promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mounts := func(publicStatus, publicMetrics bool) []server.Mount {
		return append(page.Mounts(publicStatus), server.Mount{Pattern: "GET /metrics", Handler: metricsHandler, Public: publicMetrics})
	}
	unixLn, err := server.ListenUnix(ctx, g.SocketPath())
	if err != nil {
		return err
	}
	var tcpLn net.Listener
	if lf.addr != "" {
		if tcpLn, err = net.Listen("tcp", lf.addr); err != nil {
			unixLn.Close()
			return cli.Invalid(fmt.Errorf("--listen: %w", err))
		}
		if tlsConfig == nil {
			log.Info("WARNING: --insecure: serving the API on TCP without TLS; the token and every object cross the network unencrypted", "listen", tcpLn.Addr().String())
		}
	}
	var hooks http.Handler
	if o.Hooks != nil {
		if hooks, err = o.Hooks(served); err != nil {
			unixLn.Close()
			if tcpLn != nil {
				tcpLn.Close()
			}
			return err
		}
	}
	// The socket and TCP are served apart, each with its own connection bound, so that a flood
	// on TCP cannot starve the socket.
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		return server.ServeWith(ctx, unixLn, withHooks(hooks, server.New(st, server.Options{Mounts: mounts(false, false)})), server.ServeOptions{Grace: grace})
	})
	if tcpLn != nil {
		eg.Go(func() error {
			return server.ServeWith(ctx, tcpLn, withHooks(hooks, server.New(st, server.Options{Token: g.Token, Mounts: mounts(lf.publicStatus, lf.publicMetrics)})),
				server.ServeOptions{Grace: grace, TLS: tlsConfig})
		})
	}
	for _, run := range o.Runners {
		eg.Go(func() error { return run(ctx, served) })
	}
	log.Info("swarmrun serving", "dataDir", g.DataDir, "socket", g.SocketPath(), "listen", lf.addr, "tls", tlsConfig != nil,
		"publicStatus", lf.publicStatus, "publicMetrics", lf.publicMetrics)
	err = eg.Wait()
	log.Info("swarmrun stopped")
	return err
}

// withHooks serves the paths under /hooks/ with hooks, ahead of the API's bearer token: a
// webhook delivery is authenticated by its signature. Everything else goes to the API.
func withHooks(hooks, api http.Handler) http.Handler {
	if hooks == nil {
		return api
	}
	mux := http.NewServeMux()
	mux.Handle("/hooks/", hooks)
	mux.Handle("/", api)
	return mux
}
