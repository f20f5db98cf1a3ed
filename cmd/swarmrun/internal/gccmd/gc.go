package gccmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/api/client"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/objcmd"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/warm"
)

// EngineFunc connects to the Docker engine and returns it with its closer.
type EngineFunc func(g *cli.Globals) (deploy.Engine, func(), error)

// Options wire the command.
type Options struct {
	// Engine connects to the Docker engine (default: the one --docker-host names).
	Engine EngineFunc
	// Now is the clock of staleness (default time.Now).
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Engine == nil {
		o.Engine = dockerEngine
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func dockerEngine(g *cli.Globals) (deploy.Engine, func(), error) {
	c, err := deploy.NewClient(g.DockerHost)
	if err != nil {
		return nil, nil, err
	}
	return c, func() { _ = c.Close() }, nil
}

// Command returns `swarmrun gc`.
func Command(g *cli.Globals, o Options) *cobra.Command {
	o.defaults()
	var (
		dryRun bool
		output string
		policy warm.Policy
		max    int
		prefix string
	)
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Remove stale run stacks, warm stacks and unused objects that swarmrun owns",
		Long: `Remove what swarmrun owns and no longer needs: run stacks whose TestRun is gone or finished
past the grace period with teardown pending, warm stacks whose Recipe is gone, not warm or has
no canonical record, and swarmrun's secrets, configs and networks that nothing uses.

Ownership is by labels only (swarmrun.dev/managed-by, swarmrun.dev/testrun, swarmrun.dev/warm).
Unlabelled stacks, other tools' stacks and services outside stacks are never touched. The one
exception is opt-in: with --adopt-warm, an unlabelled stack named warm-<recipe>, or
warm-<recipe>_<domain> as abra names apps (warm-keycloak_example_org is recipe keycloak's), is
removed (its volumes kept) when that Recipe exists and has no canonical record. A stack that
names no existing Recipe, or one whose Recipe has a canonical, is only ever reported.

Exit codes, like diff: --dry-run exits 0 when nothing is stale and 1 when something is; a real
run exits 0 when everything stale was removed and 1 when some is left over --max-deletions;
2 on errors, including a removal that failed (the next run retries it).`,
		Example: `  swarmrun gc --dry-run
  swarmrun gc --adopt-warm --grace 30m
  swarmrun gc --dry-run -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "json" {
				return cli.Invalid(fmt.Errorf("-o %q: want json or nothing for a table", output))
			}
			co := warm.CollectorOptions{Policy: policy, MaxDeletions: max}
			if prefix != "" {
				co.Scope = func(name string) bool { return strings.HasPrefix(name, prefix) }
			}
			return run(cmd.Context(), g, o, cmd.OutOrStdout(), cmd.ErrOrStderr(), dryRun, output == "json", co)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dryRun, "dry-run", false, "print what would be removed and why, remove nothing")
	f.BoolVar(&policy.AdoptWarm, "adopt-warm", false, "remove unlabelled warm-<recipe> (or warm-<recipe>_<domain>) stacks whose Recipe exists without a canonical record")
	f.BoolVar(&policy.WarmVolumes, "warm-volumes", false, "remove the volumes of stale warm stacks too (kept by default)")
	f.DurationVar(&policy.Grace, "grace", warm.DefaultGrace, "how long a finished run's stack, an orphaned run stack or an unused object is left before it is stale")
	f.IntVar(&max, "max-deletions", warm.DefaultMaxDeletions, "remove at most this many stacks and objects; the rest waits for the next run")
	f.StringVar(&prefix, "name-prefix", "", "only consider stacks and objects whose name starts with this prefix")
	f.StringVarP(&output, "output", "o", "", "output format: json (default: a table)")
	return cmd
}

func run(ctx context.Context, g *cli.Globals, o Options, out, errOut io.Writer, dryRun, asJSON bool, co warm.CollectorOptions) error {
	e, closeEngine, err := o.Engine(g)
	if err != nil {
		return cli.Invalid(err)
	}
	defer closeEngine()
	objs, source, closeObjects, err := objects(ctx, g)
	if err != nil {
		return err
	}
	defer closeObjects()
	co.Engine, co.Objects, co.Now = e, objs, o.Now
	r, passErr := warm.NewCollector(co).Pass(ctx, dryRun)
	if r == nil {
		return cli.Invalid(passErr)
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return cli.Invalid(err)
		}
	} else if err := table(out, r); err != nil {
		return cli.Invalid(err)
	}
	fmt.Fprintf(errOut, "%s (objects from %s)\n", summary(r), source)
	switch {
	case passErr != nil:
		return cli.Invalid(passErr)
	case dryRun && len(r.Plan.Stale) > 0:
		return cli.Failed(fmt.Errorf("%d stale", len(r.Plan.Stale)))
	case len(r.Deferred) > 0:
		return cli.Failed(fmt.Errorf("%d stale left over --max-deletions", len(r.Deferred)))
	}
	return nil
}

// objects returns the API client when a server answers, else the store under --data-dir.
// An explicit --server must answer.
func objects(ctx context.Context, g *cli.Globals) (warm.Reader, string, func(), error) {
	addr := g.Server
	if addr == "" {
		addr = g.SocketPath()
	}
	if g.Server != "" || exists(addr) {
		c, err := client.NewWithOptions(addr, client.Options{Token: g.Token, CAFile: g.CAFile})
		if err == nil {
			hctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			err = c.Healthz(hctx)
			cancel()
		}
		switch {
		case err == nil:
			return c, "the API at " + addr, func() {}, nil
		case g.Server != "":
			return nil, "", nil, cli.Invalid(fmt.Errorf("API server %s: %w", addr, err))
		}
	}
	path := objcmd.StorePath(g)
	if !exists(path) {
		return nil, "", nil, cli.Invalid(fmt.Errorf("no API server answers and there is no store at %s: gc needs the Recipes and TestRuns that own the stacks (set --data-dir or --server)", path))
	}
	st, err := store.Open(path, store.Options{LockTimeout: time.Second})
	if errors.Is(err, store.ErrLocked) {
		return nil, "", nil, cli.Invalid(fmt.Errorf("%w: a swarmrun serve holds it but its API at %s does not answer", err, addr))
	}
	if err != nil {
		return nil, "", nil, cli.Invalid(err)
	}
	return st, "the store " + path, func() { _ = st.Close() }, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// table prints one row per stack or object gc has something to say about.
func table(out io.Writer, r *warm.Report) error {
	w := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "KIND\tNAME\tSTACK\tACTION\tWHY")
	row := func(it warm.Item, action string) {
		stack := it.Stack
		if stack == "" {
			stack = "-"
		}
		why := it.Why
		if it.Kind == warm.KindStack && it.Action == warm.ActionRemove {
			if it.Volumes {
				why += " (with volumes)"
			} else {
				why += " (volumes kept)"
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", it.Kind, cli.Printable(it.Name), cli.Printable(stack), action, cli.Printable(why))
	}
	if r.DryRun {
		for _, it := range r.Plan.Stale {
			row(it, "would-remove")
		}
	} else {
		for _, it := range r.Removed {
			row(it, "removed")
		}
		for _, f := range r.Failed {
			f.Item.Why += ": " + f.Error
			row(f.Item, "failed")
		}
		for _, it := range r.Deferred {
			row(it, "deferred")
		}
	}
	for _, it := range r.Plan.Unmanaged {
		row(it, "report")
	}
	for _, it := range r.Plan.Kept {
		row(it, "keep")
	}
	return w.Flush()
}

func summary(r *warm.Report) string {
	if r.DryRun {
		return fmt.Sprintf("dry run: %d stale, %d reported, %d kept, %d other stacks ignored",
			len(r.Plan.Stale), len(r.Plan.Unmanaged), len(r.Plan.Kept), r.Plan.Ignored)
	}
	return fmt.Sprintf("%d removed, %d failed, %d deferred, %d reported, %d kept, %d other stacks ignored",
		len(r.Removed), len(r.Failed), len(r.Deferred), len(r.Plan.Unmanaged), len(r.Plan.Kept), r.Plan.Ignored)
}
