package objcmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
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

func newServeCommand(g *cli.Globals, o Options) *cobra.Command {
	var (
		listen    string
		tokenFile string
		grace     time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API (and the controllers) over the store under --data-dir",
		Long: `Serve the API on the unix socket under --data-dir (mode 0600) and, with --listen, on TCP,
where every request needs the bearer token (--token, SWARMRUN_TOKEN or --token-file).
Beside the API run the controllers over the same store: the TestRun controller (which promotes
green runs of warm recipes), the Recipe controller (which keeps warm-<recipe> at each warm
recipe's canonical version and removes it, volumes kept, when the recipe stops being warm or
is deleted) and garbage collection every --gc-interval.
SIGTERM or SIGINT shuts down gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token := g.Token
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return cli.Invalid(fmt.Errorf("--token-file: %w", err))
				}
				token = strings.TrimSpace(string(b))
			}
			if listen != "" && token == "" {
				return cli.Invalid(errors.New("--listen needs a token (--token, SWARMRUN_TOKEN or --token-file): TCP requests are authenticated"))
			}
			ctx := cmd.Context()
			if _, err := logr.FromContext(ctx); err != nil {
				ctx = logr.NewContext(ctx, g.Logger())
			}
			return serve(ctx, g, o, listen, token, grace)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "", "also serve on this TCP address (host:port); needs a token")
	f.StringVar(&tokenFile, "token-file", "", "read the bearer token from this file")
	f.DurationVar(&grace, "grace", 10*time.Second, "how long shutdown waits for requests in flight")
	if o.ServeFlags != nil {
		o.ServeFlags(f)
	}
	return cmd
}

func serve(ctx context.Context, g *cli.Globals, o Options, listen, token string, grace time.Duration) error {
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
	if listen != "" {
		if tcpLn, err = net.Listen("tcp", listen); err != nil {
			unixLn.Close()
			return cli.Invalid(fmt.Errorf("--listen: %w", err))
		}
	}
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return server.Serve(ctx, unixLn, server.New(st, server.Options{}), grace) })
	if tcpLn != nil {
		eg.Go(func() error { return server.Serve(ctx, tcpLn, server.New(st, server.Options{Token: token}), grace) })
	}
	for _, run := range o.Runners {
		eg.Go(func() error { return run(ctx, st) })
	}
	log.Info("swarmrun serving", "dataDir", g.DataDir, "socket", g.SocketPath(), "listen", listen)
	err = eg.Wait()
	log.Info("swarmrun stopped")
	return err
}
