package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/policy"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/render"
	"github.com/swarmrun/swarmrun/internal/mask"
)

// DefaultAppService is the service that carries a recipe's coop-cloud labels.
const DefaultAppService = "app"

// DefaultDomainSuffix makes a deploy's DOMAIN: <stack>.<suffix>.
const DefaultDomainSuffix = "swarmrun.localhost"

// Options configure a Pipeline. Engine and DataDir are required.
type Options struct {
	// Engine is the Docker engine (a *client.Client, or deploy/fake in tests).
	Engine deploy.Engine
	// Deployer applies, prunes and removes; default deploy.New over Engine.
	Deployer *deploy.Deployer
	// Recipes opens recipe sources; default a cache under <DataDir>/recipes.
	Recipes *recipe.Cache
	// DataDir holds the secret key that every generated secret derives from.
	DataDir string
	// AppService is the service that gets the coop-cloud labels; default DefaultAppService.
	AppService string
	// DomainSuffix makes each deploy's DOMAIN; default DefaultDomainSuffix.
	DomainSuffix string
	// Stable and MaxFailures tune the judge (converge.Policy); zero takes its defaults, a
	// negative Stable judges a service converged as soon as its tasks run.
	Stable      time.Duration
	MaxFailures int
	// Policy is the deploy policy every prepared stack must pass before it can be applied;
	// the zero value is the safe default (policy.Default).
	Policy policy.Policy
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Pipeline is swarmrun's one way to deploy a recipe commit as a stack: materialise, env,
// compose files, render, generated secrets, apply, and then observe the convergence one look
// at a time. Runs (package reconcile) and warm stacks (package warm) both deploy through it.
// It is safe for concurrent use by deploys of different stacks; one stack's deploys must be
// serialised by the caller.
type Pipeline struct {
	engine       deploy.Engine
	deployer     *deploy.Deployer
	recipes      *recipe.Cache
	secret       []byte
	appService   string
	domainSuffix string
	stable       time.Duration
	maxFailures  int
	now          func() time.Time
	health       *HealthLog
	policy       policy.Policy
}

// New returns a Pipeline with the defaults filled in. It reads (or creates once) the data
// dir's secret key.
func New(o Options) (*Pipeline, error) {
	if o.Engine == nil || o.DataDir == "" {
		return nil, errors.New("stack pipeline: engine and data dir are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Deployer == nil {
		o.Deployer = deploy.New(deploy.Options{Engine: o.Engine, Now: o.Now})
	}
	if o.Recipes == nil {
		o.Recipes = recipe.NewCache(recipe.Options{Dir: filepath.Join(o.DataDir, "recipes"), Now: o.Now})
	}
	if o.AppService == "" {
		o.AppService = DefaultAppService
	}
	if o.DomainSuffix == "" {
		o.DomainSuffix = DefaultDomainSuffix
	}
	key, err := secretKey(o.DataDir)
	if err != nil {
		return nil, fmt.Errorf("stack pipeline: %w", err)
	}
	if err := o.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("stack pipeline: %w", err)
	}
	return &Pipeline{engine: o.Engine, deployer: o.Deployer, recipes: o.Recipes, secret: key,
		appService: o.AppService, domainSuffix: o.DomainSuffix, stable: o.Stable, maxFailures: o.MaxFailures,
		now: o.Now, health: NewHealthLog(0), policy: o.Policy}, nil
}

// AppService is the service that carries the coop-cloud labels.
func (p *Pipeline) AppService() string { return p.appService }

// Open opens a recipe source (see recipe.Cache.Open).
func (p *Pipeline) Open(ctx context.Context, url string) (*Source, error) {
	return p.recipes.Open(ctx, url)
}

// Request is one deploy of one recipe commit into one stack.
type Request struct {
	// Role names the deploy in errors and in the role label: base, head or warm.
	Role   string
	Stack  string
	Source *Source
	// Commit is the full commit to deploy.
	Commit string
	// Dir is the deploy's own directory; it is emptied first and holds only this deploy's
	// files, so nothing of one deploy can reach another.
	Dir string
	// Env are the layers over the recipe's own env (.env.sample, abra.sh), in order;
	// STACK_NAME and DOMAIN go over all of them.
	Env []map[string]string
	// Domain is the deploy's DOMAIN; empty means <stack>.<suffix> (Options.DomainSuffix).
	Domain   string
	Overlays [][]byte
	// App says which coop-cloud labels the app service gets: a version or a chaos deploy.
	App AppDeploy
	// SecretSeed derives the generated secrets: the same seed always gives the same values.
	SecretSeed string
	// Images are image override lists, applied in order to the rendered services (the
	// Recipe's, then the TestRun's; see conventions.adjust).
	Images [][]v1alpha1.ImageOverride
	// Labels are the ownership labels every object of the deploy carries.
	Labels map[string]string
	// WorkingTree deploys a local source's working tree as it is on disk, uncommitted
	// changes included, instead of Commit (swarmrun render and lint of a recipe directory).
	WorkingTree bool
	// Recipe and SourceURL name the Recipe the deploy is of, for the deploy policy's
	// per-recipe sections; Published says the commit is a published release tag (a version
	// base or a warm canonical), which the policy may trust.
	Recipe    string
	SourceURL string
	Published bool
}

// Prepared is a deploy rendered and ready to apply: swarmrun's own view of the stack it
// would make, with the render itself kept inside.
type Prepared struct {
	Stack string
	Role  string
	// Files are the compose files, in merge order, relative to the recipe.
	Files []string
	// Digest identifies the render.
	Digest string
	// Services are the stack's services by full name.
	Services map[string]Service
	// OwnNetworks maps the full name of each network the deploy creates in place of an
	// external network the recipe declares to that external name (conventions.adjust).
	OwnNetworks map[string]string
	labels      map[string]string
	render      *render.Stack
	// plain is the recipe rendered as it writes itself, for lint; plainErr why it is not.
	plain    *Plain
	plainErr error
}

// ComposeYAML prints the configuration the deploy applies (after overlays, app labels,
// conventions and image overrides) as `docker stack config` prints one; generated secrets
// are marked, without their values.
func (pr *Prepared) ComposeYAML() ([]byte, error) { return pr.render.ComposeYAML() }

// StackJSON is the swarm objects the deploy applies (networks, secrets with their data
// replaced by its digest, configs, services), as JSON.
func (pr *Prepared) StackJSON() ([]byte, error) { return json.Marshal(pr.render) }

// Service is one service of a render, as swarmrun compares it with a live stack.
type Service struct {
	Name string
	// Image is the image the service runs: as written in compose (after interpolation),
	// then changed by the deploy's image overrides.
	Image string
	// ComposeImage is the image as written in compose, when an override changed it.
	ComposeImage string
	// Labels are the service's deploy labels.
	Labels map[string]string
}

// ServiceNames returns the full names of the prepared services, sorted.
func (pr *Prepared) ServiceNames() []string {
	return slices.Sorted(maps.Keys(pr.Services))
}

// inputs are what every render of a deploy reads: the materialised checkout, the recipe's
// env, the deploy's resolved env and its compose files.
type inputs struct {
	env   recipe.Env
	vars  map[string]string
	files []string
	tags  []recipe.Tag
	// tagsErr says why tags could not be listed; only lint's tag rules need them.
	tagsErr error
}

// read materialises req.Commit (or, with req.WorkingTree, the local source's working tree)
// into req.Dir, reads the recipe's env under req.Env and then STACK_NAME and DOMAIN, picks
// the compose files of COMPOSE_FILE and lists the source's tags.
func (p *Pipeline) read(ctx context.Context, req Request) (*inputs, error) {
	if err := os.RemoveAll(req.Dir); err != nil {
		return nil, fmt.Errorf("prepare %s: %w", req.Role, err)
	}
	materialise := func() error { return req.Source.Materialise(ctx, req.Commit, req.Dir) }
	if req.WorkingTree {
		materialise = func() error { return req.Source.MaterialiseWorkingTree(ctx, req.Dir) }
	}
	if err := materialise(); err != nil {
		return nil, fmt.Errorf("prepare %s: %w", req.Role, err)
	}
	env, err := recipe.LoadEnv(req.Dir)
	if err != nil {
		return nil, renderError(fmt.Errorf("%s: %w", req.Role, err))
	}
	domain := req.Domain
	if domain == "" {
		domain = req.Stack + "." + p.domainSuffix
	}
	layers := append(slices.Clone(req.Env), map[string]string{"STACK_NAME": req.Stack, "DOMAIN": domain})
	vars, err := env.Resolve(layers...)
	if err != nil {
		return nil, renderError(fmt.Errorf("%s: env: %w", req.Role, err))
	}
	files, err := recipe.ComposeFiles(vars, req.Dir)
	if err != nil {
		return nil, renderError(fmt.Errorf("%s: %w", req.Role, err))
	}
	in := &inputs{env: env, vars: vars, files: files}
	in.tags, in.tagsErr = req.Source.Tags(ctx)
	return in, nil
}

// Plain is a deploy's recipe rendered as the recipe itself writes it: its compose files
// under its env (.env.sample, abra.sh, the caller's layers, STACK_NAME and DOMAIN), without
// the overlays, the app labels, the conventions, the image overrides and the generated
// secrets of a deploy. It is what `docker stack config` prints for the same files and env,
// and what lint judges (abra lints a recipe as it is written). A Plain is never applied.
type Plain struct {
	// Files are the compose files, in merge order, relative to the recipe.
	Files []string
	// Dir is the materialised checkout.
	Dir    string
	in     *inputs
	render *render.Stack
}

// Plain materialises and renders req's recipe as it writes itself (see Plain). It needs no
// engine, and no deploy policy applies: nothing of it is deployed.
func (p *Pipeline) Plain(ctx context.Context, req Request) (*Plain, error) {
	in, err := p.read(ctx, req)
	if err != nil {
		return nil, err
	}
	st, err := render.Render(ctx, render.Options{Stack: req.Stack, Dir: req.Dir, Files: in.files, Env: in.vars})
	if err != nil {
		return nil, renderError(fmt.Errorf("render %s: %w", req.Role, err))
	}
	return &Plain{Files: in.files, Dir: req.Dir, in: in, render: st}, nil
}

// ComposeYAML prints the plain configuration as `docker stack config` would.
func (pl *Plain) ComposeYAML() ([]byte, error) { return pl.render.ComposeYAML() }

// Env is the resolved env the plain render was interpolated with: the env
// `docker stack config` needs to print the same. It may hold an operator's secrets: never
// print it.
func (pl *Plain) Env() map[string]string { return maps.Clone(pl.in.vars) }

// Prepare materialises req.Commit into req.Dir and renders it: the recipe's env under
// req.Env, then STACK_NAME and DOMAIN; the compose files of COMPOSE_FILE; req.Overlays; the
// app service's coop-cloud labels; abra's conventions and req.Images (conventions.adjust);
// and the generated external secrets, whose values m learns (with the values of the
// secret-shaped keys of req.Env) so that no message carries them. External secrets the
// deploy policy allows stay external: the apply checks they exist. The final stack must then
// pass the deploy policy (policy.Check), or nothing of it is applied. The recipe is also
// rendered plain (see Plain), for lint; a plain render that fails (one a base-only repair's
// overlay mends) does not fail the deploy. Errors a retry cannot help satisfy
// errors.Is(err, ErrRender) (the recipe's compose, env or secrets are wrong) or
// errors.Is(err, policy.ErrDenied).
func (p *Pipeline) Prepare(ctx context.Context, req Request, m *mask.Masker) (*Prepared, error) {
	in, err := p.read(ctx, req)
	if err != nil {
		return nil, err
	}
	teachSecrets(m, req.Env)
	env, vars, files := in.env, in.vars, in.files
	frag, err := appLabels(p.appService, recipe.AppLabels(req.App))
	if err != nil {
		return nil, err
	}
	d := policy.Deploy{Recipe: req.Recipe, Source: req.SourceURL, Role: policy.Role(req.Role), Published: req.Published}
	allow := p.policy.Effective(d.Recipe, d.Source)
	conv := &conventions{app: p.appService, env: vars, images: req.Images, allow: allow}
	opts := render.Options{Stack: req.Stack, Dir: req.Dir, Files: files, Overlays: append(slices.Clone(req.Overlays), frag),
		Env: vars, Adjust: conv.adjust}
	st, labelErr := render.Render(ctx, opts)
	if labelErr != nil {
		// A recipe without the app service: the labels fragment alone cannot make a service
		// (it has no image). Render without it, and let that render's error speak.
		opts.Overlays = req.Overlays
		conv = &conventions{app: p.appService, env: vars, images: req.Images, allow: allow}
		opts.Adjust = conv.adjust
		if st, err = render.Render(ctx, opts); err != nil {
			return nil, renderError(fmt.Errorf("render %s: %w", req.Role, err))
		}
		if _, ok := st.Services[req.Stack+"_"+p.appService]; ok {
			return nil, renderError(fmt.Errorf("render %s: app labels: %w", req.Role, labelErr))
		}
	}
	if generate := slices.DeleteFunc(slices.Clone(st.ExternalSecrets), allow.AllowsSecret); len(generate) > 0 {
		values, err := generateSecrets(p.secret, req.SecretSeed, env, st.SecretSources, generate)
		if err != nil {
			return nil, renderError(err)
		}
		for _, v := range values {
			m.Add(string(v))
		}
		if err := st.ProvideSecrets(values, req.Labels); err != nil {
			return nil, renderError(err)
		}
	}
	if err := policy.Check(st, p.policy, d); err != nil {
		return nil, fmt.Errorf("prepare %s: %w", req.Role, err)
	}
	pr := newPrepared(req, files, st, conv)
	pr.plain = &Plain{Files: files, Dir: req.Dir, in: in}
	pr.plain.render, pr.plainErr = render.Render(ctx, render.Options{Stack: req.Stack, Dir: req.Dir, Files: files, Env: vars})
	return pr, nil
}

func newPrepared(req Request, files []string, st *render.Stack, conv *conventions) *Prepared {
	pr := &Prepared{Stack: req.Stack, Role: req.Role, Files: files, Digest: st.Digest,
		Services: make(map[string]Service, len(st.Services)), labels: maps.Clone(req.Labels), render: st}
	for name, spec := range st.Services {
		pr.Services[name] = Service{Name: name, Image: st.Images[name], Labels: maps.Clone(spec.Labels),
			ComposeImage: conv.composeImages[strings.TrimPrefix(name, req.Stack+"_")]}
	}
	for key, external := range conv.ownNetworks {
		if pr.OwnNetworks == nil {
			pr.OwnNetworks = map[string]string{}
		}
		pr.OwnNetworks[req.Stack+"_"+key] = external
	}
	return pr
}

// ErrRender marks a deploy whose recipe cannot be rendered: compose files, env, overlays,
// secrets. No retry of the same commit helps.
var ErrRender = errors.New("recipe cannot be rendered")

// renderErr is an error of the recipe's render; it wraps the cause and satisfies
// errors.Is(err, ErrRender).
type renderErr struct{ err error }

func renderError(err error) error { return &renderErr{err: err} }

func (e *renderErr) Error() string        { return e.err.Error() }
func (e *renderErr) Unwrap() error        { return e.err }
func (e *renderErr) Is(target error) bool { return target == ErrRender }

// appLabels is the overlay fragment that puts the coop-cloud labels on the app service's
// deploy labels, as abra does.
func appLabels(service string, labels map[string]string) ([]byte, error) {
	frag := map[string]any{"services": map[string]any{service: map[string]any{"deploy": map[string]any{"labels": labels}}}}
	b, err := json.Marshal(frag)
	if err != nil {
		return nil, fmt.Errorf("app labels: %w", err)
	}
	return b, nil
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

// Applied is what one Apply did, in the terms a deploy record keeps.
type Applied struct {
	StartedAt time.Time
	// Created, Updated and Unchanged name the services, each sorted.
	Created, Updated, Unchanged []string
	// Targets are what the convergence of this apply is judged against.
	Targets []Target
	// Images lists each service's image with what the engine knows of its digest.
	Images []v1alpha1.ImageRecord
}

// Apply converges the swarm to the prepared render (deploy.Deployer.Apply): every object
// carries the deploy's ownership labels. It returns at once; the caller observes the
// convergence with Look.
func (p *Pipeline) Apply(ctx context.Context, pr *Prepared) (*Applied, error) {
	cs, err := p.deployer.Apply(ctx, pr.render, deploy.ApplyOptions{Labels: pr.labels, Owner: ownerOf(pr.labels)})
	if err != nil {
		return nil, fmt.Errorf("apply %s: %w", pr.Role, err)
	}
	a := &Applied{StartedAt: cs.StartedAt, Images: imageRecords(pr, cs.Images)}
	for _, c := range cs.Services {
		a.Targets = append(a.Targets, Target{ServiceID: c.ID, Name: c.Name, PrevVersion: c.PrevVersion, Changed: c.Action != deploy.Unchanged})
		switch c.Action {
		case deploy.Created:
			a.Created = append(a.Created, c.Name)
		case deploy.Updated:
			a.Updated = append(a.Updated, c.Name)
		default:
			a.Unchanged = append(a.Unchanged, c.Name)
		}
	}
	return a, nil
}

// imageRecords lists each service's image with what the engine knows of its digest: the
// registry digest of a pulled image, else the local image's repo digest or ID; and, when an
// override changed it, the image the compose file names.
func imageRecords(pr *Prepared, infos []deploy.ImageInfo) []v1alpha1.ImageRecord {
	st := pr.render
	digests := map[string]string{}
	for _, info := range infos {
		switch {
		case info.Digest != "":
			digests[info.Image] = info.Digest
		case len(info.RepoDigests) > 0:
			digests[info.Image] = info.RepoDigests[0]
		default:
			digests[info.Image] = info.ID
		}
	}
	var out []v1alpha1.ImageRecord
	for _, name := range slices.Sorted(maps.Keys(st.Images)) {
		img := st.Images[name]
		out = append(out, v1alpha1.ImageRecord{Service: name, Image: img, Digest: digests[img], Compose: pr.Services[name].ComposeImage})
	}
	return out
}

// Prune removes the services of the stack that the prepared render does not declare, and
// returns their names. It removes only services that carry the deploy's owner labels: a
// service of the stack that is someone else's is left, and reported (*deploy.NotOwnedError).
// Without a render (renderErr set, or pr nil) it removes nothing and says why
// (deploy.Deployer.PruneOwned).
func (p *Pipeline) Prune(ctx context.Context, stack string, pr *Prepared, renderErr error) ([]string, error) {
	var (
		st    *render.Stack
		owner deploy.Owner
	)
	if pr != nil {
		st, owner = pr.render, ownerOf(pr.labels)
	}
	return p.deployer.PruneOwned(ctx, stack, st, renderErr, owner)
}

// ownerOf is the owner that ownership labels name: managed-by and the run or warm recipe
// (not the role, which changes from one deploy of a stack to the next).
func ownerOf(labels map[string]string) deploy.Owner {
	o := deploy.Owner{Labels: map[string]string{}}
	for _, k := range []string{v1alpha1.LabelManagedBy, v1alpha1.LabelTestRun, v1alpha1.LabelWarm} {
		if v, ok := labels[k]; ok {
			o.Labels[k] = v
		}
	}
	return o
}

// Observe reads the live state of a stack (deploy.Deployer.Observe).
func (p *Pipeline) Observe(ctx context.Context, stack string) (*State, error) {
	return p.deployer.Observe(ctx, stack)
}

// RemovePoll is how long a removal that waits for the tasks of removed services to go waits
// before its next step.
const RemovePoll = 250 * time.Millisecond

// Owner reads who the labels of a stack's objects say owns it (inventory.StackOwner), and
// whether anything of the stack exists at all.
func (p *Pipeline) Owner(ctx context.Context, stack string) (Ownership, bool, error) {
	inv, err := inventory.ListStack(ctx, p.engine, stack)
	if err != nil {
		return Ownership{}, false, err
	}
	if len(inv.Objects()) == 0 {
		return Ownership{}, false, nil
	}
	return inventory.StackOwner(inv), true, nil
}

// RemoveStep takes one step of removing a stack (deploy.Deployer.RemoveStep): done says
// nothing of it is left. Only objects that carry the owner labels go (managed-by and the run
// or warm recipe of owner); others are left and reported. Call it again after RemovePoll
// until done.
func (p *Pipeline) RemoveStep(ctx context.Context, stack string, volumes bool, owner map[string]string) (*Removal, bool, error) {
	return p.deployer.RemoveStep(ctx, stack, deploy.RemoveOptions{Volumes: volumes, Owner: ownerOf(owner)})
}
