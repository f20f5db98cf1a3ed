package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/render"
	"github.com/swarmrun/swarmrun/internal/mask"
)

// stacks is the deploy path that runs and warm stacks share: materialise a commit into a
// directory of its own, layer the env, render with the overlays and the app labels, provide
// the generated secrets, then apply and wait. One path for both means a warm stack runs a
// version exactly as a run's version base would.
type stacks struct {
	deployer     *deploy.Deployer
	recipes      *recipe.Cache
	secret       []byte
	appService   string
	domainSuffix string
	stable, poll time.Duration
}

// stackOptions are the inputs of newStacks; zero values take the defaults.
type stackOptions struct {
	deployer     *deploy.Deployer
	recipes      *recipe.Cache
	dataDir      string
	now          func() time.Time
	appService   string
	domainSuffix string
	stable, poll time.Duration
}

// newStacks fills the defaults in and reads (or creates once) the data dir's secret key.
func newStacks(o stackOptions) (*stacks, error) {
	if o.recipes == nil {
		o.recipes = recipe.NewCache(recipe.Options{Dir: filepath.Join(o.dataDir, "recipes"), Now: o.now})
	}
	if o.appService == "" {
		o.appService = DefaultAppService
	}
	if o.domainSuffix == "" {
		o.domainSuffix = DefaultDomainSuffix
	}
	key, err := secretKey(o.dataDir)
	if err != nil {
		return nil, err
	}
	return &stacks{deployer: o.deployer, recipes: o.recipes, secret: key, appService: o.appService,
		domainSuffix: o.domainSuffix, stable: o.stable, poll: o.poll}, nil
}

// deploySpec is what one deploy renders.
type deploySpec struct {
	// what names the deploy in errors: a run's role, or warm.
	what   string
	stack  string
	commit string
	// dir is the deploy's own directory; it is emptied first.
	dir string
	// env are the layers over the recipe's own files (.env.sample, abra.sh), in order;
	// STACK_NAME and DOMAIN go over all of them.
	env      []map[string]string
	overlays [][]byte
	app      recipe.AppDeploy
	// seed derives the generated secrets: the same seed always gives the same values.
	seed string
	// labels go on the generated secrets, as on every object of the deploy.
	labels map[string]string
}

// render materialises d.commit into d.dir and renders it: the recipe's env under d.env, the
// compose files of COMPOSE_FILE, d.overlays, the app labels, and the generated external
// secrets, whose values m learns so that no message carries them.
func (s *stacks) render(ctx context.Context, src *recipe.Source, d deploySpec, m *mask.Masker) (*render.Stack, []string, error) {
	if err := os.RemoveAll(d.dir); err != nil {
		return nil, nil, fmt.Errorf("prepare %s: %w", d.what, err)
	}
	if err := src.Materialise(ctx, d.commit, d.dir); err != nil {
		return nil, nil, fmt.Errorf("prepare %s: %w", d.what, err)
	}
	env, err := recipe.LoadEnv(d.dir)
	if err != nil {
		return nil, nil, &renderFailure{err: fmt.Errorf("%s: %w", d.what, err)}
	}
	teachSecrets(m, d.env)
	layers := append(slices.Clone(d.env), map[string]string{
		"STACK_NAME": d.stack,
		"DOMAIN":     d.stack + "." + s.domainSuffix,
	})
	vars := env.Resolve(layers...)
	files, err := recipe.ComposeFiles(vars, d.dir)
	if err != nil {
		return nil, nil, &renderFailure{err: fmt.Errorf("%s: %w", d.what, err)}
	}
	frag, err := appLabels(s.appService, recipe.AppLabels(d.app))
	if err != nil {
		return nil, nil, err
	}
	opts := render.Options{Stack: d.stack, Dir: d.dir, Files: files, Overlays: append(slices.Clone(d.overlays), frag), Env: vars}
	st, labelErr := render.Render(ctx, opts)
	if labelErr != nil {
		// A recipe without the app service: the labels fragment alone cannot make a service
		// (it has no image). Render without it, and let that render's error speak.
		opts.Overlays = d.overlays
		var err error
		if st, err = render.Render(ctx, opts); err != nil {
			return nil, nil, fmt.Errorf("render %s: %w", d.what, err)
		}
		if _, ok := st.Services[d.stack+"_"+s.appService]; ok {
			return nil, nil, &renderFailure{err: fmt.Errorf("render %s: app labels: %w", d.what, labelErr)}
		}
	}
	if len(st.ExternalSecrets) > 0 {
		values, err := generateSecrets(s.secret, d.seed, d.stack, env, vars, st.ExternalSecrets)
		if err != nil {
			return nil, nil, &renderFailure{err: err}
		}
		for _, v := range values {
			m.Add(string(v))
		}
		if err := st.ProvideSecrets(values, d.labels); err != nil {
			return nil, nil, &renderFailure{err: err}
		}
	}
	return st, files, nil
}

// teachSecrets teaches m the values of the secret-shaped keys (mask.IsSecretKey) of the env
// layers an operator supplied (the Recipe's env, previous.env, the TestRun's env): a check or
// a job that echoes one, or an error quoting it, must not carry it into a condition, an
// event, a tier or the results. Version variables (SECRET_X_VERSION) name a secret, they are
// not one.
func teachSecrets(m *mask.Masker, layers []map[string]string) {
	if m == nil {
		return
	}
	for _, layer := range layers {
		for k, v := range layer {
			if mask.IsSecretKey(k) && !strings.HasSuffix(strings.ToUpper(k), "_VERSION") {
				m.Add(v)
			}
		}
	}
}

// waitOptions bound a convergence wait of a deploy of rc.
func (s *stacks) waitOptions(rc *v1alpha1.Recipe) deploy.WaitOptions {
	return deploy.WaitOptions{Timeout: rc.Spec.DeployTimeout(), Stable: s.stable, Poll: s.poll}
}
