package objcmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
)

func newDeleteCommand(g *cli.Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete testrun|recipe|repository NAME...",
		Short: "Delete objects; one with finalizers goes once they are done (a run's teardown)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := kindOf(args[0])
			if err != nil {
				return err
			}
			c, err := connect(g)
			if err != nil {
				return err
			}
			var (
				errs []error
				code int
			)
			res := strings.ToLower(kind) + "." + v1alpha1.Group
			for _, name := range args[1:] {
				obj, err := c.Delete(cmd.Context(), kind, name)
				if err != nil {
					// Go on with the other names, as kubectl does; the worst exit code wins.
					errs = append(errs, err)
					code = max(code, cli.ExitCode(apiError(err)))
					continue
				}
				if m := obj.GetObjectMeta(); m.DeletionTimestamp != nil && len(m.Finalizers) > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "%s %q marked for deletion (waiting for %s)\n", res, name, strings.Join(m.Finalizers, ", "))
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %q deleted\n", res, name)
			}
			if len(errs) > 0 {
				return &cli.ExitError{Code: code, Err: errors.Join(errs...)}
			}
			return nil
		},
	}
}
