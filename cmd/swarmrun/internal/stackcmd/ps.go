package stackcmd

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
)

func newPsCommand(g *cli.Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ps STACK",
		Short: "Show the services of a stack: image, replicas running/desired, update state",
		Args:  exactStack,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, closeEngine, err := deployer(g)
			if err != nil {
				return err
			}
			defer closeEngine()
			st, err := d.Observe(cmd.Context(), args[0])
			if err != nil {
				return cli.Invalid(err)
			}
			if len(st.Services) == 0 {
				return cli.Failed(fmt.Errorf("stack %s not found: no service carries its namespace label", args[0]))
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 3, ' ', 0)
			fmt.Fprintln(w, "SERVICE\tIMAGE\tMODE\tREPLICAS\tUPDATE")
			for _, s := range st.Services {
				update := s.UpdateState
				if update == "" {
					update = "-"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%d/%d\t%s\n", s.Name, s.Image, s.Mode, s.Running, s.Desired, update)
			}
			return w.Flush()
		},
	}
}
