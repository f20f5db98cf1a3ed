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
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
)

// Runner runs beside the API in serve until ctx ends, over the served store.
type Runner func(ctx context.Context, st *store.Store) error

// listenFlags are serve's flags for the TCP listener.
type listenFlags struct {
	addr, tlsCert, tlsKey string
	insecure              bool
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
	case lf.addr == "" && (lf.tlsCert != "" || lf.tlsKey != "" || lf.insecure):
		return nil, errors.New("--tls-cert, --tls-key and --insecure apply to --listen, which is not set")
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
		if hooks, err = o.Hooks(st); err != nil {
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
		return server.ServeWith(ctx, unixLn, withHooks(hooks, server.New(st, server.Options{})), server.ServeOptions{Grace: grace})
	})
	if tcpLn != nil {
		eg.Go(func() error {
			return server.ServeWith(ctx, tcpLn, withHooks(hooks, server.New(st, server.Options{Token: g.Token})), server.ServeOptions{Grace: grace, TLS: tlsConfig})
		})
	}
	for _, run := range o.Runners {
		eg.Go(func() error { return run(ctx, st) })
	}
	log.Info("swarmrun serving", "dataDir", g.DataDir, "socket", g.SocketPath(), "listen", lf.addr, "tls", tlsConfig != nil)
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
