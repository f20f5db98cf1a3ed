package objcmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/spec"
)

func newApplyCommand(g *cli.Globals) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|-",
		Short: "Create or update objects from YAML files, directories or standard input",
		Long: `Create or update objects from YAML files, directories (every *.yaml and *.yml) or standard
input (-), in YAML or JSON. Every document is read and validated first: if any is bad, or an
input holds no object at all, every problem is listed, nothing is stored, and the exit code
is 2.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return cli.Invalid(errors.New("apply needs -f FILE, DIR or -"))
			}
			var (
				docs     []spec.Document
				problems []spec.Problem
			)
			for _, f := range files {
				var (
					d   []spec.Document
					err error
				)
				name := f
				if f == "-" {
					name = spec.StdinName
					d, err = spec.Read(name, cmd.InOrStdin())
				} else {
					d, err = spec.ReadPath(f)
				}
				var se *spec.Error
				switch {
				case errors.As(err, &se):
					problems = append(problems, se.Problems...)
				case err != nil:
					return cli.Invalid(err)
				case len(d) == 0:
					// An empty input is a mistake (the wrong file, a failed pipe), not a
					// request to do nothing.
					problems = append(problems, spec.Problem{File: name, Message: "no objects (want Recipe, TestRun or Repository documents)"})
				}
				docs = append(docs, d...)
			}
			if len(problems) > 0 {
				return cli.Invalid(&spec.Error{Problems: problems})
			}
			c, err := connect(g)
			if err != nil {
				return err
			}
			for _, d := range docs {
				res, err := c.Apply(cmd.Context(), d.Object)
				if err != nil {
					return apiError(fmt.Errorf("%s: %w", d.Source, err))
				}
				kind, _ := store.KindOf(d.Object)
				fmt.Fprintln(cmd.OutOrStdout(), objectName(kind, d.Object.GetObjectMeta().Name), res)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "a YAML file, a directory of them, or - for standard input (repeatable)")
	return cmd
}
