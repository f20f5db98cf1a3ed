package stackcmd

import (
	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/deploy"
)

// Command returns `swarmrun stack` with its subcommands.
func Command(g *cli.Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stack",
		Short: "Deploy, inspect and remove swarm stacks directly from compose files",
		Long: `Work on a Docker Swarm stack directly, like docker stack, without the API server.

Unlike docker stack deploy, swarmrun stack deploy removes the services the compose no longer
declares (--prune, on by default), waits until every service has really converged (up-to-date
tasks running and stable, healthchecks passing), reports a rollback as a failure, and exits 0
only when the stack converged.`,
	}
	cmd.AddCommand(newDeployCommand(g), newRemoveCommand(g), newPsCommand(g))
	return cmd
}

// deployer connects to the engine named by the global flags.
func deployer(g *cli.Globals) (*deploy.Deployer, func(), error) {
	c, err := deploy.NewClient(g.DockerHost)
	if err != nil {
		return nil, nil, cli.Invalid(err)
	}
	return deploy.New(deploy.Options{Engine: c}), func() { _ = c.Close() }, nil
}
