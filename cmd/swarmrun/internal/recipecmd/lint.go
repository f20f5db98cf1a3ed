package recipecmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/deploy/stack"
)

// lintReport is `swarmrun lint -o json`.
type lintReport struct {
	Recipe string `json:"recipe"`
	// Ref is the ref linted, empty for the working tree.
	Ref   string   `json:"ref,omitempty"`
	Files []string `json:"files"`
	// Passed says no critical rule failed.
	Passed bool               `json:"passed"`
	Rules  []stack.LintResult `json:"rules"`
}

func lintCommand(g *cli.Globals) *cobra.Command {
	var (
		output string
		dir    dirFlags
	)
	cmd := &cobra.Command{
		Use:   "lint RECIPE_DIR [--ref REF] [--env-file F] [-o json]",
		Short: "Check a recipe against abra's recipe rules (R001-R015) and swarmrun's own",
		Long: `Lint a recipe directory (its working tree, or --ref) against abra's recipe rules, under
abra's references and levels (R001 to R015), and swarmrun's own (SR...). The recipe is
judged as it writes itself: its compose files (COMPOSE_FILE) under its env (.env.sample,
abra.sh, --env-file), its README.md and its tags.

Rules marked * are not verified against abra's source: their wording and checks may
differ from abra's. R013 asks the network and is skipped.

Exit 0 when no critical rule fails, 1 when one does (or the recipe does not render), 2 on
bad input. The Docker engine is never contacted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "" && output != "json" {
				return cli.Invalid(fmt.Errorf("-o %q: want json", output))
			}
			s, cleanup, err := newSession(g, "")
			if err != nil {
				return err
			}
			defer cleanup()
			req, err := s.dirRequest(cmd.Context(), args[0], dir)
			if err != nil {
				return err
			}
			pl, err := s.p.Plain(cmd.Context(), req)
			if err != nil {
				return renderFailure(err)
			}
			rep := lintReport{Recipe: args[0], Ref: dir.ref, Files: pl.Files, Passed: true, Rules: pl.Lint(stack.DefaultAppService)}
			var failed []string
			for _, r := range rep.Rules {
				if !r.Satisfied && r.Skipped == "" && r.Rule.Level == stack.LintError {
					rep.Passed = false
					failed = append(failed, r.Rule.Ref)
				}
			}
			if output == "json" {
				b, err := json.MarshalIndent(rep, "", "  ")
				if err != nil {
					return cli.Invalid(err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			} else {
				printLint(cmd.OutOrStdout(), rep)
			}
			if !rep.Passed {
				return cli.Failed(fmt.Errorf("lint %s: critical rules failed: %s", args[0], strings.Join(failed, ", ")))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "json: the report as JSON")
	dir.bind(cmd)
	return cmd
}

// printLint prints the report as a table, one rule a line, and the findings below.
func printLint(w io.Writer, rep lintReport) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REF\tLEVEL\tSTATUS\tRULE\tRESOLVE")
	unverified := false
	for _, r := range rep.Rules {
		ref := r.Rule.Ref
		if r.Rule.Unverified {
			ref, unverified = ref+"*", true
		}
		status := "ok"
		switch {
		case r.Skipped != "":
			status = "skipped"
		case !r.Satisfied:
			status = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ref, r.Rule.Level, status, r.Rule.Description, r.Rule.HowToResolve)
	}
	_ = tw.Flush()
	for _, r := range rep.Rules {
		if r.Skipped != "" {
			fmt.Fprintf(w, "%s skipped: %s\n", r.Rule.Ref, cli.Printable(r.Skipped))
		}
		for _, f := range r.Findings {
			fmt.Fprintf(w, "%s %s: %s\n", r.Rule.Ref, cli.Printable(f.Object), cli.Printable(f.Message))
		}
	}
	if unverified {
		fmt.Fprintln(w, "* not verified against abra's source")
	}
	verdict := "passed"
	if !rep.Passed {
		verdict = "failed"
	}
	fmt.Fprintf(w, "lint %s: %s (%s)\n", verdict, rep.Recipe, strings.Join(rep.Files, ":"))
}
