package stackcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/converge"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/render"
)

type deployFlags struct {
	files   []string
	envFile string
	prune   bool
	timeout time.Duration
	detach  bool
}

func newDeployCommand(g *cli.Globals) *cobra.Command {
	f := &deployFlags{}
	cmd := &cobra.Command{
		Use:   "deploy -c FILE [-c FILE...] [flags] STACK",
		Short: "Converge a stack to compose files: apply, wait for convergence, prune",
		Long: `Converge the stack STACK to the given compose files.

Files are merged in order (later ones override earlier ones), as with docker stack deploy -c a
-c b. Variables are interpolated from --env-file, overridden by the shell environment, as in
docker compose.

Steps: render the compose files exactly as docker stack deploy would; check that every image
is present locally (or pullable) and that external networks, secrets and configs exist;
create missing networks, secrets and configs; create and update services (an unchanged
service is not touched); wait until every service converged; remove the services of the
stack that the compose no longer declares.

Exit codes: 0 converged; 1 the stack did not converge (missing image, failing tasks,
unhealthy, rollback, timeout); 2 bad input, or an engine error.`,
		Example: `  # deploy, then upgrade: services dropped from v2 are removed
  swarmrun stack deploy -c compose.yml myapp
  swarmrun stack deploy -c compose.yml -c compose.prod.yml --env-file .env myapp

  # keep services the compose dropped, as docker stack deploy does
  swarmrun stack deploy --prune=false -c compose.yml myapp`,
		Args: exactStack,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDeploy(cmd.Context(), g, f, args[0], cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.files, "compose-file", "c", nil, "compose file (repeatable; merged in order)")
	fl.StringVar(&f.envFile, "env-file", "", "dotenv file with variables for interpolation (the shell environment wins)")
	fl.BoolVar(&f.prune, "prune", true, "remove services the compose no longer declares")
	fl.DurationVar(&f.timeout, "timeout", 20*time.Minute, "bound for the whole convergence")
	fl.BoolVar(&f.detach, "detach", false, "apply and prune, but do not wait for convergence")
	return cmd
}

func exactStack(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return cli.Invalid(fmt.Errorf("%s needs exactly one STACK argument (got %d)", cmd.CommandPath(), len(args)))
	}
	return nil
}

func runDeploy(ctx context.Context, g *cli.Globals, f *deployFlags, stack string, out io.Writer) error {
	if len(f.files) == 0 {
		return cli.Invalid(errors.New("no compose file: give at least one with -c FILE"))
	}
	env, err := interpolationEnv(f.envFile)
	if err != nil {
		return cli.Invalid(err)
	}
	files := make([]string, len(f.files))
	for i, name := range f.files {
		if files[i], err = filepath.Abs(name); err != nil {
			return cli.Invalid(fmt.Errorf("compose file %s: %w", name, err))
		}
	}
	// The operator's own files, as with docker stack deploy: they may name files anywhere.
	st, err := render.Render(ctx, render.Options{Stack: stack, Dir: filepath.Dir(files[0]), Files: files, Env: env, HostPaths: true})
	if err != nil {
		return cli.Invalid(err)
	}

	d, closeEngine, err := deployer(g)
	if err != nil {
		return err
	}
	defer closeEngine()

	start := time.Now()
	fmt.Fprintf(out, "Deploying stack %s (%d services)\n", stack, len(st.Services))
	// Apply checks the manager, the images and the external objects before touching anything.
	cs, err := d.Apply(ctx, st, deploy.ApplyOptions{})
	if err != nil {
		return deployError(err)
	}
	printChanges(out, cs)

	var waitErr error
	if !f.detach {
		p := newProgressPrinter(out, stack, start)
		_, waitErr = d.Wait(ctx, cs, deploy.WaitOptions{Timeout: f.timeout, Progress: p.update})
	}
	if f.prune {
		// Prune even when the wait failed: the stack must not keep running services the compose
		// dropped, whatever state the others are in.
		removed, err := d.Prune(ctx, stack, st, nil)
		if err != nil {
			return deployError(errors.Join(waitErr, err))
		}
		for _, name := range removed {
			fmt.Fprintf(out, "  service %s pruned (no longer in the compose)\n", name)
		}
	}
	if waitErr != nil {
		return deployError(waitErr)
	}
	if f.detach {
		fmt.Fprintf(out, "Stack %s applied; not waiting for convergence (--detach)\n", stack)
		return nil
	}
	fmt.Fprintf(out, "Stack %s converged in %s\n", stack, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// interpolationEnv is the env file's variables overridden by the process environment, as
// docker compose interpolates.
func interpolationEnv(envFile string) (map[string]string, error) {
	shell := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			shell[k] = v
		}
	}
	if envFile == "" {
		return shell, nil
	}
	f, err := os.Open(envFile)
	if err != nil {
		return nil, fmt.Errorf("env file: %w", err)
	}
	defer f.Close()
	fileEnv, err := recipe.ParseDotenv(f)
	if err != nil {
		return nil, fmt.Errorf("env file %s: %w", envFile, err)
	}
	out, err := fileEnv.Resolve(shell)
	if err != nil {
		return nil, fmt.Errorf("env file %s: %w", envFile, err)
	}
	return out, nil
}

// deployError maps a deploy failure to its exit code: the stack cannot or did not converge
// (1), or the input or the engine is at fault (2).
func deployError(err error) error {
	var (
		img *deploy.ImageError
		cv  *converge.Error
	)
	if errors.As(err, &img) || errors.As(err, &cv) {
		return cli.Failed(err)
	}
	return cli.Invalid(err)
}

func printChanges(out io.Writer, cs *deploy.ChangeSet) {
	for _, group := range [][]deploy.Change{cs.Networks, cs.Secrets, cs.Configs, cs.Services} {
		for _, c := range group {
			fmt.Fprintf(out, "  %s %s %s\n", c.Kind, c.Name, strings.ToLower(string(c.Action)))
		}
	}
}
