package recipecmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/internal/mask"
)

// Output formats of render.
const (
	outputCompose = "compose"
	outputStack   = "stack"
)

func renderCommand(g *cli.Globals) *cobra.Command {
	var (
		files      []string
		role       string
		output     string
		plain      bool
		policyFile string
		dir        dirFlags
	)
	cmd := &cobra.Command{
		Use:   "render (-f FILE [--role head|base] | RECIPE_DIR [--ref REF] [--env-file F] [--stack NAME])",
		Short: "Print what a deploy of a recipe would apply, as YAML, without a swarm",
		Long: `Render a recipe exactly as a run's deploy does (the same pipeline, without applying it) and
print the result as YAML.

With -f, the files hold a TestRun and its Recipe: the run is planned as the controller plans
it (head; base: explicit, else the target branch tip, since a file carries no last green
version) and the deploy of --role (head by default) is rendered: the recipe's env with the
Recipe's and the TestRun's, COMPOSE_FILE, the overlays, the app labels, abra's conventions (the
app env exposed to the app service, an external proxy network made the run's own), the image
overrides, the generated secrets. With RECIPE_DIR, the recipe's working tree (or --ref) is
rendered as the head of a run.

-o compose (the default) prints the merged configuration as 'docker stack config' prints it;
generated secrets are marked x-swarmrun-generated (never their values), a network the run
creates in place of an external one x-swarmrun-stands-in-for. -o stack prints the swarm
objects (networks, secrets with their data as a digest, configs, services, images).

--plain renders the recipe as it writes itself: its compose files under its env, nothing of a
deploy added. For the same files and env, that is byte for byte what 'docker stack config'
prints (but for env_file, which is inlined into environment).

The deploy policy (--policy-file) applies as it would to a run: a stack it denies is not
printed. Exit 0 on success, 1 when the recipe cannot be rendered or is denied, 2 on bad input.
The Docker engine is never contacted.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != outputCompose && output != outputStack {
				return cli.Invalid(fmt.Errorf("-o %q: want compose or stack", output))
			}
			if plain && output != outputCompose {
				return cli.Invalid(fmt.Errorf("--plain prints -o compose only"))
			}
			if (len(files) == 0) == (len(args) == 0) {
				return cli.Invalid(fmt.Errorf("render needs -f FILE or a RECIPE_DIR, not both"))
			}
			s, cleanup, err := newSession(g, policyFile)
			if err != nil {
				return err
			}
			defer cleanup()
			ctx := cmd.Context()
			var req stack.Request
			if len(files) > 0 {
				req, err = s.runRequest(ctx, files, role)
			} else {
				req, err = s.dirRequest(ctx, args[0], dir)
			}
			if err != nil {
				return err
			}
			out, summary, err := s.render(cmd, req, output, plain)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), summary)
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&files, "filename", "f", nil, "a YAML file or a directory of them with a TestRun and its Recipe (repeatable)")
	f.StringVar(&role, "role", v1alpha1.RoleHead, "the run's deploy to render: head or base")
	f.StringVarP(&output, "output", "o", outputCompose, "compose (the merged configuration) or stack (the swarm objects)")
	f.BoolVar(&plain, "plain", false, "render the recipe as it writes itself, nothing of a deploy added (docker stack config's output)")
	f.StringVar(&policyFile, "policy-file", "", "deploy policy the rendered stack must pass, as under serve and run")
	dir.bind(cmd)
	return cmd
}

// render prepares req (or renders it plain) and returns the output and a one-line summary.
func (s *session) render(cmd *cobra.Command, req stack.Request, output string, plain bool) ([]byte, string, error) {
	ctx := cmd.Context()
	what := fmt.Sprintf("%s of %s as stack %s", req.Role, describe(req), req.Stack)
	if plain {
		pl, err := s.p.Plain(ctx, req)
		if err != nil {
			return nil, "", renderFailure(err)
		}
		out, err := pl.ComposeYAML()
		if err != nil {
			return nil, "", cli.Invalid(err)
		}
		return out, fmt.Sprintf("# %s, plain: %s", what, strings.Join(pl.Files, ":")), nil
	}
	pr, err := s.p.Prepare(ctx, req, mask.New())
	if err != nil {
		return nil, "", renderFailure(err)
	}
	summary := fmt.Sprintf("# %s: %s; %d services", what, strings.Join(pr.Files, ":"), len(pr.Services))
	if output == outputStack {
		j, err := pr.StackJSON()
		if err != nil {
			return nil, "", cli.Invalid(err)
		}
		out, err := yaml.JSONToYAML(j)
		if err != nil {
			return nil, "", cli.Invalid(err)
		}
		return out, summary, nil
	}
	out, err := pr.ComposeYAML()
	if err != nil {
		return nil, "", cli.Invalid(err)
	}
	return out, summary, nil
}

// describe names what a request deploys: the version, or the commit (working tree).
func describe(req stack.Request) string {
	switch {
	case !req.App.Chaos:
		return req.Recipe + " " + req.App.Version
	case req.WorkingTree:
		return req.Recipe + " working tree at " + stack.ChaosVersion(req.App.Commit, req.App.Dirty)
	}
	return req.Recipe + " " + stack.ChaosVersion(req.Commit, false)
}
