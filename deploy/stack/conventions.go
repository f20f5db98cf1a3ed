package stack

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/container"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/policy"
	"github.com/swarmrun/swarmrun/deploy/render"
)

// StandsInForExtension marks, in a printed configuration, a network that a recipe declares
// external and that the deploy creates as its own: its value is the external name.
const StandsInForExtension = "x-swarmrun-stands-in-for"

// conventions are abra's deploy-time conventions that a compose file alone does not say,
// applied to a render's merged configuration (render.Options.Adjust) before it becomes swarm
// objects, and what applying them changed.
type conventions struct {
	// app is the compose name of the service that gets the app env (abra: "app").
	app string
	// env is the deploy's resolved env.
	env map[string]string
	// images are the override lists, applied in order (the Recipe's, then the TestRun's).
	images [][]v1alpha1.ImageOverride
	// allow is the deploy policy's effective allowance for the recipe.
	allow policy.Allow

	// composeImages maps the compose name of each service whose image an override changed
	// to the image its compose file names.
	composeImages map[string]string
	// ownNetworks maps the compose key of each external network the deploy creates itself to
	// the external name the recipe asked for.
	ownNetworks map[string]string
}

// adjust applies the conventions to cfg, in this order:
//
//   - Image overrides (see overrideImage), so that everything after, the policy, the
//     apply, the deploy record and verification, sees the image that will run.
//   - The app env: every variable of the deploy's env that the app service does not set
//     itself is added to its environment, as abra's ExposeAllEnv does (unverified: only the service
//     named app, only names it does not set; not checked against abra's source, but real
//     recipes depend on it: the 2021 traefik recipe's traefik.yml.tmpl reads
//     {{ env "LETS_ENCRYPT_EMAIL" }} and the wordpress entrypoint.sh.tmpl
//     {{ env "PHP_EXTENSIONS" }}, which their app services never declare). The engine renders
//     a template_driver: golang config or secret at task start from the task's own
//     environment (swarmkit template/context.go), so without this such templates render
//     empty values, silently.
//   - External networks known by their key alone: one the deploy policy lets the recipe
//     join (externalNetworks, usually an operator's reverse-proxy network) stays external
//     and must exist. Any other, the `proxy: {external: true}` every Co-op Cloud recipe
//     declares (all 395 network sections of the seven real recipes' histories that declare
//     an external network have this shape), becomes a network of the stack itself:
//     <stack>_<key>, an overlay network created, labelled and removed with the stack like its
//     other objects. A test run has no reverse proxy to join, and creating a network under the
//     shared name would put it where the operator's proxy and every other run would find it,
//     share it, and fight over its removal. An external network named explicitly (name:
//     another_stack_internal) is left to the policy, which refuses it unless externalNetworks
//     lists it.
func (c *conventions) adjust(cfg *render.Config) error {
	for i := range cfg.Services {
		svc := &cfg.Services[i]
		img, err := overrideImage(svc.Image, c.images)
		if err != nil {
			return fmt.Errorf("services.%s.image: %w", svc.Name, err)
		}
		if img != svc.Image {
			if c.composeImages == nil {
				c.composeImages = map[string]string{}
			}
			c.composeImages[svc.Name] = svc.Image
			svc.Image = img
		}
		if svc.Name == c.app {
			for _, k := range slices.Sorted(maps.Keys(c.env)) {
				if _, set := svc.Environment[k]; set {
					continue
				}
				if svc.Environment == nil {
					svc.Environment = map[string]*string{}
				}
				v := c.env[k]
				svc.Environment[k] = &v
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(cfg.Networks)) {
		n := cfg.Networks[key]
		// Only the convention's shape, an external network known by its key (docker's loader
		// fills in name: <key>): one named otherwise (name: another_stack_internal) asks for a
		// particular network, which only the policy can grant.
		if !n.External.External || n.Name != "" && n.Name != key || n.External.Name != "" && n.External.Name != key {
			continue
		}
		name := key
		if slices.Contains(c.allow.ExternalNetworks, name) || !container.NetworkMode(name).IsUserDefined() {
			continue
		}
		if c.ownNetworks == nil {
			c.ownNetworks = map[string]string{}
		}
		c.ownNetworks[key] = name
		cfg.Networks[key] = render.NetworkConfig{
			Driver: render.DefaultNetworkDriver,
			Labels: n.Labels,
			Extras: map[string]any{StandsInForExtension: name},
		}
	}
	return nil
}

// overrideImage applies the override lists to image in order: in each list, the entry whose
// name is the image's name (both normalised as docker does) replaces the name (newName), or
// the tag and digest (digest, else newTag), keeping the rest as written. A later list sees
// what the earlier ones made, as kustomize's layered images: do.
func overrideImage(image string, lists [][]v1alpha1.ImageOverride) (string, error) {
	for _, list := range lists {
		named, err := reference.ParseNormalizedNamed(image)
		if err != nil {
			return "", fmt.Errorf("image %q: %w", image, err)
		}
		for _, o := range list {
			want, err := reference.ParseNormalizedNamed(o.Name)
			if err != nil || want.Name() != named.Name() {
				continue
			}
			name, suffix := splitImage(image, named)
			if o.NewName != "" {
				name = o.NewName
			}
			switch {
			case o.Digest != "":
				suffix = "@" + o.Digest
			case o.NewTag != "":
				suffix = ":" + o.NewTag
			}
			image = name + suffix
			break
		}
	}
	return image, nil
}

// splitImage splits an image reference as written into its name and its ":tag", "@digest"
// or ":tag@digest" suffix.
func splitImage(image string, named reference.Named) (name, suffix string) {
	name = image
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	if tagged, ok := named.(reference.Tagged); ok {
		name = strings.TrimSuffix(name, ":"+tagged.Tag())
	}
	return name, image[len(name):]
}
