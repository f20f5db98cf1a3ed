package stackcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/deploy"
)

func newRemoveCommand(g *cli.Globals) *cobra.Command {
	var volumes bool
	cmd := &cobra.Command{
		Use:     "rm [--volumes] STACK",
		Aliases: []string{"remove", "down"},
		Short:   "Remove a stack: services, then networks, secrets and configs (volumes with --volumes)",
		Long: `Remove every object labelled as part of STACK: its services first, then, once their
tasks are gone, its secrets, configs and networks. Named volumes stay unless --volumes is
given. Removing a stack that does not exist succeeds.`,
		Args: exactStack,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, closeEngine, err := deployer(g)
			if err != nil {
				return err
			}
			defer closeEngine()
			r, err := d.Remove(cmd.Context(), args[0], deploy.RemoveOptions{Volumes: volumes})
			if err != nil {
				return cli.Invalid(err)
			}
			out := cmd.OutOrStdout()
			for _, group := range []struct {
				kind  string
				names []string
			}{{"service", r.Services}, {"secret", r.Secrets}, {"config", r.Configs}, {"network", r.Networks}, {"volume", r.Volumes}} {
				for _, name := range group.names {
					fmt.Fprintf(out, "  %s %s removed\n", group.kind, name)
				}
			}
			fmt.Fprintf(out, "Stack %s removed\n", args[0])
			return nil
		},
	}
	cmd.Flags().BoolVar(&volumes, "volumes", false, "also remove the stack's named volumes (their data is lost)")
	return cmd
}
