package recipecmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/app"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/stack"
	"github.com/swarmrun/swarmrun/reconcile"
	"github.com/swarmrun/swarmrun/spec"
)

// Commands returns `swarmrun render` and `swarmrun lint`.
func Commands(g *cli.Globals) []*cobra.Command {
	return []*cobra.Command{renderCommand(g), lintCommand(g)}
}

// dirFlags are the flags of a recipe directory's render or lint.
type dirFlags struct {
	ref     string
	envFile string
	stack   string
	domain  string
}

func (f *dirFlags) bind(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.ref, "ref", "", "a commit, tag or branch of the recipe's repository (default: its working tree as it is on disk)")
	fs.StringVar(&f.envFile, "env-file", "", "app env over .env.sample and abra.sh (dotenv: COMPOSE_FILE, DOMAIN, ...)")
	fs.StringVar(&f.stack, "stack", "", "stack name (STACK_NAME; default: the directory's name)")
	fs.StringVar(&f.domain, "domain", "", "the app's DOMAIN (default: <stack>."+stack.DefaultDomainSuffix+")")
}

// session is one render or lint: a pipeline that prepares into a temporary directory.
type session struct {
	p   *stack.Pipeline
	dir string
}

// newSession builds a pipeline over the engine --docker-host names, which a render never
// contacts, with its secret key, recipe mirrors and checkouts in a temporary directory.
func newSession(g *cli.Globals, policyFile string) (*session, func(), error) {
	pol, err := (&app.Flags{PolicyFile: policyFile}).Policy()
	if err != nil {
		return nil, nil, err
	}
	engine, closeEngine, err := app.Engine(g)
	if err != nil {
		return nil, nil, err
	}
	tmp, err := os.MkdirTemp("", "swarmrun-render-")
	if err != nil {
		closeEngine()
		return nil, nil, cli.Invalid(err)
	}
	cleanup := func() { closeEngine(); _ = os.RemoveAll(tmp) }
	p, err := stack.New(stack.Options{Engine: engine, DataDir: tmp, Policy: pol})
	if err != nil {
		cleanup()
		return nil, nil, cli.Invalid(err)
	}
	return &session{p: p, dir: tmp}, cleanup, nil
}

// dirRequest is the deploy of a recipe directory as the head of a run: its working tree (a
// chaos deploy, "+U" when it has uncommitted changes) or a ref (a version deploy when the
// ref is a release tag), with the --env-file layer.
func (s *session) dirRequest(ctx context.Context, dir string, f dirFlags) (stack.Request, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return stack.Request{}, cli.Invalid(err)
	}
	src, err := s.p.Open(ctx, abs)
	if err != nil {
		return stack.Request{}, cli.Invalid(err)
	}
	name := f.stack
	if name == "" {
		name = stackName(filepath.Base(abs))
	}
	req := stack.Request{Role: v1alpha1.RoleHead, Stack: name, Source: src, Dir: filepath.Join(s.dir, "checkout"),
		Domain: f.domain, SecretSeed: "render", Recipe: filepath.Base(abs), SourceURL: abs}
	if f.envFile != "" {
		env, err := readEnvFile(f.envFile)
		if err != nil {
			return stack.Request{}, err
		}
		req.Env = []map[string]string{env}
	}
	req.App = stack.AppDeploy{Stack: name, Recipe: req.Recipe, Chaos: true}
	if f.ref == "" {
		head, err := src.Resolve(ctx, "HEAD")
		if err != nil {
			return stack.Request{}, cli.Invalid(err)
		}
		dirty, err := src.Dirty(ctx)
		if err != nil {
			return stack.Request{}, cli.Invalid(err)
		}
		req.WorkingTree, req.App.Commit, req.App.Dirty = true, head.Hash, dirty
		return req, nil
	}
	c, err := src.Resolve(ctx, f.ref)
	if err != nil {
		return stack.Request{}, cli.Invalid(fmt.Errorf("--ref: %w", err))
	}
	req.Commit, req.App.Commit = c.Hash, c.Hash
	if c.Version != "" {
		req.App.Chaos, req.App.Version, req.Published = false, c.Version, true
	}
	return req, nil
}

// stackName makes a directory's name a stack name: lower case letters, digits, '-' and '_'.
func stackName(base string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '_'
	}, base)
	if out == "" || out[0] == '_' || out[0] == '-' {
		out = "recipe" + out
	}
	return out
}

// readEnvFile reads a dotenv file into the literal values of an env layer, its own
// references expanded.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, cli.Invalid(fmt.Errorf("--env-file: %w", err))
	}
	defer f.Close()
	env, err := recipe.ParseDotenv(f)
	if err != nil {
		return nil, cli.Invalid(fmt.Errorf("--env-file %s: %w", path, err))
	}
	vars, err := env.Resolve()
	if err != nil {
		return nil, cli.Invalid(fmt.Errorf("--env-file %s: %w", path, err))
	}
	return vars, nil
}

// runRequest is the deploy of role (head or base) that the TestRun in files would make: the
// run planned as the reconciler plans it, against the Recipe's source, with no last green
// version (a file carries no status).
func (s *session) runRequest(ctx context.Context, files []string, role string) (stack.Request, error) {
	docs, err := spec.ReadPaths(files)
	if err != nil {
		return stack.Request{}, cli.Invalid(err)
	}
	var (
		runs    []*v1alpha1.TestRun
		recipes = map[string]*v1alpha1.Recipe{}
	)
	for _, d := range docs {
		switch o := d.Object.(type) {
		case *v1alpha1.TestRun:
			runs = append(runs, o)
		case *v1alpha1.Recipe:
			recipes[o.Name] = o
		}
	}
	if len(runs) != 1 {
		return stack.Request{}, cli.Invalid(fmt.Errorf("render -f needs exactly one TestRun, found %d", len(runs)))
	}
	tr := runs[0]
	rc, ok := recipes[tr.Spec.Recipe]
	if !ok {
		return stack.Request{}, cli.Invalid(fmt.Errorf("testrun %s: recipe %q is not in the files", tr.Name, tr.Spec.Recipe))
	}
	tr.Default()
	rc.Default()
	if tr.UID == "" {
		tr.UID = "render"
	}
	src, err := s.p.Open(ctx, rc.Spec.Source.URL)
	if err != nil {
		return stack.Request{}, cli.Invalid(err)
	}
	if err := src.Fetch(ctx); err != nil {
		return stack.Request{}, cli.Invalid(err)
	}
	plan, err := reconcile.PlanRun(ctx, src, tr, rc)
	if err != nil {
		return stack.Request{}, cli.Failed(err)
	}
	tr.Status.Stack = reconcile.StackName(tr)
	tr.Status.Head = &v1alpha1.HeadStatus{Ref: plan.Head.Ref, Commit: plan.Head.Hash, Version: plan.Head.Version}
	tr.Status.Base = &plan.Base
	switch role {
	case v1alpha1.RoleHead:
	case v1alpha1.RoleBase:
		if plan.Base.Kind == v1alpha1.BaseNone {
			return stack.Request{}, cli.Failed(fmt.Errorf("testrun %s has no upgrade base: %s", tr.Name, plan.Base.Reason))
		}
	default:
		return stack.Request{}, cli.Invalid(fmt.Errorf("--role %q: want head or base", role))
	}
	req := reconcile.DeployRequest(tr, rc, role, filepath.Join(s.dir, role))
	req.Source = src
	return req, nil
}

// renderFailure maps a failed prepare to its exit: a recipe that cannot be rendered or that
// the policy denies is the run's failure (1); anything else is an error (2).
func renderFailure(err error) error {
	if errors.Is(err, stack.ErrRender) {
		return cli.Failed(err)
	}
	if _, final := stack.Reason(err); final {
		return cli.Failed(err)
	}
	return cli.Invalid(err)
}
