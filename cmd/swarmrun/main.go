package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/app"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/gccmd"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/objcmd"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/runcmd"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/stackcmd"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := newRootCommand()
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	os.Exit(cli.ExitCode(err))
}

func newRootCommand() *cobra.Command {
	g := &cli.Globals{}
	root := &cobra.Command{
		Use:   "swarmrun",
		Short: "Reconcile Docker Swarm stacks to recipes: deploy, upgrade, prune, verify",
		Long: `swarmrun is a Kubernetes-style reconciling controller for Docker Swarm stacks.

Operators apply Recipe and TestRun objects as YAML; swarmrun deploys the recipe's upgrade base
as a real swarm stack, upgrades it to the head under test, prunes the services the head
dropped, proves the head runs, runs the test tiers and records a level.

The stack commands work on a swarm directly, like docker stack, but wait for true
convergence and prune by default.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	g.Bind(root)
	root.AddCommand(newVersionCommand())
	root.AddCommand(stackcmd.Command(g))
	controllerFlags := &app.Flags{}
	gcOptions := &app.GCOptions{}
	forgeOptions := &app.ForgeOptions{}
	root.AddCommand(objcmd.Commands(g, objcmd.Options{
		// serve runs the TestRun, Recipe and Repository controllers and the periodic garbage
		// collection, and takes the forges' webhook deliveries.
		Runners: []objcmd.Runner{app.Serve(g, controllerFlags, gcOptions, forgeOptions)},
		Hooks:   app.Hooks(g, forgeOptions),
		ServeFlags: func(f *pflag.FlagSet) {
			controllerFlags.Bind(f)
			app.BindGC(f, gcOptions)
			app.BindForge(f, forgeOptions)
		},
	})...)
	root.AddCommand(runcmd.Command(g))
	root.AddCommand(gccmd.Command(g, gccmd.Options{}))
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the swarmrun version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "swarmrun", version)
		},
	}
}
