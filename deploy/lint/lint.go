package lint

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/confine"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/render"
)

// Severity is a rule's level, as abra names it: a failed Critical rule fails the lint
// (abra's LintForErrors; swarmrun's lint rung and `swarmrun lint`'s exit status), a failed
// Warn rule is advice.
type Severity string

// Severities.
const (
	Critical Severity = "critical"
	Warn     Severity = "warn"
)

// Rule is one recipe rule. The abra rules keep abra's reference, level, description and
// how-to-resolve text (abra's pkg/lint LintRules); swarmrun's own rules are numbered SR….
type Rule struct {
	Ref          string   `json:"ref"`
	Level        Severity `json:"level"`
	Description  string   `json:"description"`
	HowToResolve string   `json:"howToResolve"`
	// Unverified marks an abra rule whose wording and check are not verified against abra's
	// source: only R001's text and the list of rule functions (R001 to R015 in order) are
	// checked against abra's published package documentation. Unverified rules may word or
	// judge differently from abra.
	Unverified bool `json:"unverified,omitempty"`
	check      func(in Input) (findings []Finding, skip string)
}

// Finding is one rule broken by one object.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Object is the service, secret, config, file or tag the finding is about.
	Object  string `json:"object"`
	Message string `json:"message"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s (%s) %s: %s", f.Rule, f.Severity, f.Object, f.Message)
}

// Input is what the rules look at: the recipe rendered as it writes itself (no deploy's
// overlays, labels or image overrides: abra lints the recipe), its checkout and its tags.
type Input struct {
	Stack *render.Stack
	// AppService is the service that carries the recipe's labels (abra: "app").
	AppService string
	// Dir is the recipe checkout (README.md, .env.sample, abra.sh), read inside it only.
	// Empty skips the rules that read files.
	Dir string
	// Env is the recipe's own env, .env.sample then abra.sh (recipe.LoadEnv).
	Env recipe.Env
	// Tags are the source's tags; TagsErr, when set, says why they are unknown, and the
	// rules about tags are skipped.
	Tags    []recipe.Tag
	TagsErr error
}

// Result is one rule's outcome.
type Result struct {
	Rule Rule `json:"rule"`
	// Satisfied says the rule holds (a skipped rule is neither satisfied nor failed).
	Satisfied bool `json:"satisfied"`
	// Skipped says why the rule was not judged, empty when it was.
	Skipped  string    `json:"skipped,omitempty"`
	Findings []Finding `json:"findings,omitempty"`
}

// Rules returns the rules: abra's R001 to R015, then swarmrun's own.
func Rules() []Rule {
	return []Rule{
		{Ref: "R001", Level: Warn, Description: "compose config has expected version", HowToResolve: `ensure 'version: "3.8"' in compose configs`, check: composeVersion},
		{Ref: "R002", Level: Warn, Description: "healthcheck enabled for all services", HowToResolve: "wire up healthchecks", Unverified: true, check: healthchecks},
		{Ref: "R003", Level: Warn, Description: "all images use a tag", HowToResolve: "use a tag for all images", Unverified: true, check: imagesTagged},
		{Ref: "R004", Level: Warn, Description: "no unstable tags", HowToResolve: "tag all images with stable tags", Unverified: true, check: stableTags},
		{Ref: "R005", Level: Warn, Description: "tags use semver-like format", HowToResolve: "use semver-like tags", Unverified: true, check: semverTags},
		{Ref: "R006", Level: Warn, Description: "has published recipe version", HowToResolve: "publish a recipe version to the catalogue", Unverified: true, check: publishedVersion},
		{Ref: "R007", Level: Warn, Description: "README.md metadata filled in", HowToResolve: "fill out all the metadata", Unverified: true, check: metadataFilledIn},
		{Ref: "R008", Level: Critical, Description: ".env.sample provided", HowToResolve: "create an example .env.sample", Unverified: true, check: envSample},
		{Ref: "R009", Level: Critical, Description: "one service named 'app'", HowToResolve: "name a service 'app'", Unverified: true, check: appService},
		{Ref: "R010", Level: Critical, Description: "traefik routing enabled", HowToResolve: `include "traefik.enable=true" deploy label`, Unverified: true, check: traefikEnabled},
		{Ref: "R011", Level: Critical, Description: "all services have images", HowToResolve: `ensure "image: ..." set on all services`, Unverified: true, check: imagesPresent},
		{Ref: "R012", Level: Critical, Description: "config version are vendored", HowToResolve: "vendor config versions in an abra.sh", Unverified: true, check: configVersionsVendored},
		{Ref: "R013", Level: Warn, Description: "git.coopcloud.tech repo exists", HowToResolve: "upload your recipe to git.coopcloud.tech/coop-cloud/...", Unverified: true, check: recipeRepo},
		{Ref: "R014", Level: Critical, Description: "only annotated tags used for recipe version", HowToResolve: "replace lightweight tags with annotated tags", Unverified: true, check: annotatedTags},
		{Ref: "R015", Level: Warn, Description: "long secret names", HowToResolve: "reduce length of secret names to 12 chars", Unverified: true, check: secretKeyLengths},
		{Ref: "SR001", Level: Warn, Description: "secret and config names carry a version", HowToResolve: "end each name with a version from a variable that is set (…_${SECRET_X_VERSION}, …_${X_VERSION:-v1})", check: versionedNames},
	}
}

// Check judges every rule, in order.
func Check(in Input) []Result {
	if in.AppService == "" {
		in.AppService = "app"
	}
	var out []Result
	for _, r := range Rules() {
		findings, skip := r.check(in)
		for i := range findings {
			findings[i].Rule, findings[i].Severity = r.Ref, r.Level
		}
		sort.SliceStable(findings, func(i, j int) bool { return findings[i].Object < findings[j].Object })
		out = append(out, Result{Rule: r, Satisfied: skip == "" && len(findings) == 0, Skipped: skip, Findings: findings})
	}
	return out
}

// Run applies every rule and returns the findings, by rule and object.
func Run(in Input) []Finding {
	var out []Finding
	for _, r := range Check(in) {
		out = append(out, r.Findings...)
	}
	return out
}

// Passed reports whether the findings leave the lint passed: no critical finding.
func Passed(findings []Finding) bool {
	return !slices.ContainsFunc(findings, func(f Finding) bool { return f.Severity == Critical })
}

// service is one service of the render by compose name.
type service struct {
	name  string
	image string
	spec  swarm.ServiceSpec
}

// services yields the stack's services by their compose name, in name order.
func services(in Input) []service {
	var out []service
	for full, spec := range in.Stack.Services {
		img := in.Stack.Images[full]
		if img == "" && spec.TaskTemplate.ContainerSpec != nil {
			img = spec.TaskTemplate.ContainerSpec.Image
		}
		out = append(out, service{strings.TrimPrefix(full, in.Stack.Name+"_"), img, spec})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// R001 [V: abra's pkg/lint documentation quotes this rule's text]: the merged compose
// configuration's version is 3.8.
func composeVersion(in Input) ([]Finding, string) {
	if v := in.Stack.ComposeVersion(); v != "3.8" {
		return []Finding{{Object: "compose", Message: fmt.Sprintf("version is %q, want \"3.8\"", v)}}, ""
	}
	return nil, ""
}

// R002 (unverified against abra): every service declares a healthcheck (abra does not spare
// jobs or sidecars).
func healthchecks(in Input) ([]Finding, string) {
	var out []Finding
	for _, s := range services(in) {
		cs := s.spec.TaskTemplate.ContainerSpec
		switch {
		case cs == nil || cs.Healthcheck == nil || len(cs.Healthcheck.Test) == 0:
			out = append(out, Finding{Object: s.name, Message: "no healthcheck"})
		case cs.Healthcheck.Test[0] == "NONE":
			out = append(out, Finding{Object: s.name, Message: "healthcheck disabled"})
		}
	}
	return out, ""
}

// parsed is an image reference parsed as docker does, nil when it does not parse.
func parsed(image string) reference.Named {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return nil
	}
	return named
}

// tagOf is an image's tag, "" when it has none.
func tagOf(image string) string {
	if t, ok := parsed(image).(reference.Tagged); ok {
		return t.Tag()
	}
	return ""
}

// R003 (unverified against abra): no image is a bare name (a digest counts as pinned).
func imagesTagged(in Input) ([]Finding, string) {
	var out []Finding
	for _, s := range services(in) {
		if named := parsed(s.image); named != nil && reference.IsNameOnly(named) {
			out = append(out, Finding{Object: s.name, Message: fmt.Sprintf("image %q has no tag: it means latest", s.image)})
		}
	}
	return out, ""
}

// R004 (unverified against abra): no image is tagged latest.
func stableTags(in Input) ([]Finding, string) {
	var out []Finding
	for _, s := range services(in) {
		if tagOf(s.image) == "latest" {
			out = append(out, Finding{Object: s.name, Message: fmt.Sprintf("image %q is tagged latest, which changes under you", s.image)})
		}
	}
	return out, ""
}

// semverLike is a tag abra's tagcmp can order (not checked against tagcmp's grammar): an
// optional "v", one to three dot-separated numbers, and an optional "-suffix"
// ("17-3.5", "1.0.6-social-amd64", "v2.4.8", "8.0-fpm-alpine3.13").
var semverLike = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+){0,2}(-[0-9A-Za-z][0-9A-Za-z._-]*)?$`)

// R005 (unverified against abra): every tag is semver-like; an image without a tag is R003's.
func semverTags(in Input) ([]Finding, string) {
	var out []Finding
	for _, s := range services(in) {
		if tag := tagOf(s.image); tag != "" && !semverLike.MatchString(tag) {
			out = append(out, Finding{Object: s.name, Message: fmt.Sprintf("tag %q of %q is not semver-like", tag, s.image)})
		}
	}
	return out, ""
}

// R006 (unverified against abra): the recipe has a published version. abra asks its recipe
// catalogue; swarmrun has none and asks the source: a release tag (recipe.ParseVersion) is a
// published version.
func publishedVersion(in Input) ([]Finding, string) {
	if in.TagsErr != nil {
		return nil, "tags unknown: " + in.TagsErr.Error()
	}
	for _, t := range in.Tags {
		if _, err := recipe.ParseVersion(t.Name); err == nil {
			return nil, ""
		}
	}
	return []Finding{{Object: "tags", Message: "no release tag (X.Y.Z+upstream, or semver)"}}, ""
}

// readFile reads a file of the checkout; ok is false when it does not exist.
func readFile(in Input, name string) ([]byte, bool, error) {
	root, err := confine.OpenDir(in.Dir)
	if err != nil {
		return nil, false, err
	}
	defer root.Close()
	b, err := root.ReadFile(name, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	return b, err == nil, err
}

// metadataLine is one "* **Key**: value" line of a README's metadata block.
var metadataLine = regexp.MustCompile(`^\s*[*-]\s*\*\*([^*]+)\*\*\s*:?\s*(.*)$`)

// R007 (unverified against abra): README.md has its metadata block (between <!-- metadata --> and
// <!-- endmetadata -->, as every real recipe's README has) and every entry has a value.
func metadataFilledIn(in Input) ([]Finding, string) {
	if in.Dir == "" {
		return nil, "no recipe directory"
	}
	b, ok, err := readFile(in, "README.md")
	switch {
	case err != nil:
		return []Finding{{Object: "README.md", Message: err.Error()}}, ""
	case !ok:
		return []Finding{{Object: "README.md", Message: "no README.md"}}, ""
	}
	var out []Finding
	inBlock, seen := false, false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "<!-- metadata -->":
			inBlock, seen = true, true
		case line == "<!-- endmetadata -->":
			inBlock = false
		case inBlock:
			if m := metadataLine.FindStringSubmatch(line); m != nil && strings.TrimSpace(m[2]) == "" {
				out = append(out, Finding{Object: "README.md", Message: fmt.Sprintf("metadata %s is empty", m[1])})
			}
		}
	}
	if !seen {
		return []Finding{{Object: "README.md", Message: "no <!-- metadata --> block"}}, ""
	}
	return out, ""
}

// R008 (unverified against abra): .env.sample exists.
func envSample(in Input) ([]Finding, string) {
	if in.Dir == "" {
		return nil, "no recipe directory"
	}
	_, ok, err := readFile(in, recipe.EnvSampleFile)
	switch {
	case err != nil:
		return []Finding{{Object: recipe.EnvSampleFile, Message: err.Error()}}, ""
	case !ok:
		return []Finding{{Object: recipe.EnvSampleFile, Message: "no " + recipe.EnvSampleFile}}, ""
	}
	return nil, ""
}

// R009 (unverified against abra): a service is named app.
func appService(in Input) ([]Finding, string) {
	if _, ok := in.Stack.Services[in.Stack.Name+"_"+in.AppService]; !ok {
		return []Finding{{Object: in.AppService, Message: fmt.Sprintf("no service %q", in.AppService)}}, ""
	}
	return nil, ""
}

// R010 (unverified against abra): some service has the deploy label traefik.enable=true;
// skipped, as abra's LintTraefikEnabledSkipCondition does (not verified against abra's
// source), when .env.sample sets no DOMAIN (a recipe that is not served on a domain).
func traefikEnabled(in Input) ([]Finding, string) {
	if _, ok := in.Env.Lookup("DOMAIN"); !ok {
		return nil, "no DOMAIN in " + recipe.EnvSampleFile
	}
	for _, s := range services(in) {
		if s.spec.Labels["traefik.enable"] == "true" {
			return nil, ""
		}
	}
	return []Finding{{Object: "deploy labels", Message: "no service has traefik.enable=true"}}, ""
}

// R011 (unverified against abra): every service has an image. docker's loader refuses a
// service without one, so a rendered recipe holds this unless the render was given such a stack.
func imagesPresent(in Input) ([]Finding, string) {
	var out []Finding
	for _, s := range services(in) {
		if s.image == "" {
			out = append(out, Finding{Object: s.name, Message: "no image"})
		}
	}
	return out, ""
}

// R012 (unverified: abra checks that abra.sh exists when the recipe has configs): configs are
// versioned from abra.sh. swarmrun also names each variable a config's name reads (but
// STACK_NAME) that abra.sh does not export.
func configVersionsVendored(in Input) ([]Finding, string) {
	if len(in.Stack.ConfigSources) == 0 {
		return nil, ""
	}
	if in.Dir == "" {
		return nil, "no recipe directory"
	}
	if _, ok, err := readFile(in, recipe.AbraShFile); err != nil || !ok {
		return []Finding{{Object: recipe.AbraShFile, Message: "the recipe has configs and no abra.sh"}}, ""
	}
	exported := map[string]bool{}
	for _, v := range in.Env.Vars {
		if v.File == recipe.AbraShFile {
			exported[v.Name] = true
		}
	}
	var out []Finding
	for _, name := range slices.Sorted(maps.Keys(in.Stack.ConfigSources)) {
		src := in.Stack.ConfigSources[name]
		for _, v := range recipe.ReferencedVars(src.Written) {
			if v != "STACK_NAME" && !exported[v] {
				out = append(out, Finding{Object: "config " + src.Key, Message: fmt.Sprintf("its name reads %s, which abra.sh does not export", v)})
			}
		}
	}
	return out, ""
}

// R013 (unverified against abra): abra asks git.coopcloud.tech; swarmrun lints offline and
// does not.
func recipeRepo(Input) ([]Finding, string) {
	return nil, "swarmrun lints offline: git.coopcloud.tech is not asked"
}

// R014 (unverified against abra): every release tag is annotated.
func annotatedTags(in Input) ([]Finding, string) {
	if in.TagsErr != nil {
		return nil, "tags unknown: " + in.TagsErr.Error()
	}
	var out []Finding
	for _, t := range in.Tags {
		if _, err := recipe.ParseVersion(t.Name); err == nil && !t.Annotated {
			out = append(out, Finding{Object: "tag " + t.Name, Message: "lightweight tag"})
		}
	}
	return out, ""
}

// R015 (unverified against abra): compose secret keys are at most 12 characters, so that
// <stack, at most 45>_<key>_<version> stays within the engine's 64.
func secretKeyLengths(in Input) ([]Finding, string) {
	var out []Finding
	for _, k := range in.Stack.Keys("secrets") {
		if len(k) > 12 {
			out = append(out, Finding{Object: "secret " + k, Message: fmt.Sprintf("key is %d characters long, want at most 12", len(k))})
		}
	}
	return out, ""
}

// versioned is a name that ends in a version: "_v2", "_2", "_v1.3".
var versioned = regexp.MustCompile(`_v?[0-9][0-9.]*$`)

// SR001: secret and config names end in a version. Secrets and configs are immutable: a
// content change needs a new name. A name that ends in "_" had its version variable unset
// (the old wordpress recipe's ${DB_PASSWORD_VERSION}, defined only in a file swarmrun does
// not read, rendered as <stack>_db_password_).
func versionedNames(in Input) ([]Finding, string) {
	var out []Finding
	check := func(kind string, names []string) {
		for _, n := range names {
			switch {
			case strings.HasSuffix(n, "_"):
				out = append(out, Finding{Object: kind + " " + n, Message: "name ends in '_': its version variable is unset"})
			case !versioned.MatchString(n):
				out = append(out, Finding{Object: kind + " " + n, Message: "name has no version suffix: a content change cannot get a new name"})
			}
		}
	}
	var secrets []string
	for n := range in.Stack.Secrets {
		secrets = append(secrets, n)
	}
	secrets = append(secrets, in.Stack.ExternalSecrets...)
	slices.Sort(secrets)
	check("secret", secrets)
	check("config", slices.Sorted(maps.Keys(in.Stack.ConfigSources)))
	return out, ""
}
