package spec

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// MaxNameLength bounds the names of Recipes and TestRuns. The engine limits service, network,
// secret and config names to 63 characters, and swarmrun derives them from these names: a run
// stack is <testrun>-<6 hex> (40+1+6 = 47 characters) and a warm stack warm-<recipe> (5+40 =
// 45), so that <stack>_<service> keeps 63-47-1 = 15 characters for the service's own name.
const MaxNameLength = 40

// Validate returns every problem of obj, a *v1alpha1.Recipe, a *v1alpha1.TestRun or a
// *v1alpha1.Repository, with Object and Field set; it is empty for a valid object. Fields the defaults fill (a TestRun's
// stages, teardown and timeout) may be empty. The API server calls it on objects that arrive
// as JSON; the spec reader calls it after defaulting and adds the file and line.
func Validate(obj v1alpha1.Object) []Problem {
	if !known(obj) {
		switch obj.(type) {
		case *v1alpha1.Recipe, *v1alpha1.TestRun, *v1alpha1.Repository:
			return []Problem{{Message: fmt.Sprintf("no object: a nil %T", obj)}}
		}
		return []Problem{{Message: fmt.Sprintf("unsupported object %T (want a Recipe, a TestRun or a Repository)", obj)}}
	}
	v := &validator{object: objectName(obj)}
	v.typeMeta(*obj.GetTypeMeta(), kindOf(obj))
	v.meta(*obj.GetObjectMeta())
	switch o := obj.(type) {
	case *v1alpha1.Recipe:
		v.recipe(&o.Spec)
	case *v1alpha1.TestRun:
		v.testRun(&o.Spec)
	case *v1alpha1.Repository:
		v.repository(&o.Spec)
	}
	return v.problems
}

// ValidateUpdate returns the problems of replacing old with new: those of Validate(new), and
// changes that are not allowed. Kind and name identify an object and never change. A
// TestRun's recipe cannot change either: its stack, base plan and results all belong to that
// recipe, so testing another recipe is another TestRun. Everything else may change; the
// store bumps the generation and the controller converges to the new spec.
func ValidateUpdate(old, new v1alpha1.Object) []Problem {
	problems := Validate(new)
	if !known(old) || !known(new) {
		return problems
	}
	name := objectName(new)
	oldKind, newKind := kindOf(old), kindOf(new)
	if oldKind != newKind {
		return append(problems, Problem{Object: name, Field: "kind",
			Message: fmt.Sprintf("cannot change from %s to %s", oldKind, newKind)})
	}
	if o, n := old.GetObjectMeta().Name, new.GetObjectMeta().Name; o != n {
		problems = append(problems, Problem{Object: name, Field: "metadata.name",
			Message: fmt.Sprintf("cannot change from %q to %q", o, n)})
	}
	if of, nf := ownFinalizers(old), ownFinalizers(new); !slices.Equal(of, nf) {
		problems = append(problems, Problem{Object: name, Field: "metadata.finalizers",
			Message: fmt.Sprintf("swarmrun's finalizers (%s) are its controllers' to add and remove: keep %v",
				v1alpha1.FinalizerTeardown, of)})
	}
	o, ok1 := old.(*v1alpha1.TestRun)
	n, ok2 := new.(*v1alpha1.TestRun)
	if ok1 && ok2 && o != nil && n != nil && o.Spec.Recipe != n.Spec.Recipe {
		problems = append(problems, Problem{Object: name, Field: "spec.recipe",
			Message: fmt.Sprintf("cannot change from %q to %q: a run belongs to one recipe; create a new TestRun instead",
				o.Spec.Recipe, n.Spec.Recipe)})
	}
	return problems
}

// ownFinalizers are obj's finalizers of swarmrun's own domain, sorted: a client that drops
// one would let an object go without its teardown.
func ownFinalizers(obj v1alpha1.Object) []string {
	var out []string
	for _, f := range obj.GetObjectMeta().Finalizers {
		if strings.HasPrefix(f, "swarmrun.dev/") {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// known reports whether obj is a Recipe, a TestRun or a Repository that is not nil.
func known(obj v1alpha1.Object) bool {
	switch o := obj.(type) {
	case *v1alpha1.Recipe:
		return o != nil
	case *v1alpha1.TestRun:
		return o != nil
	case *v1alpha1.Repository:
		return o != nil
	}
	return false
}

// kindOf is an object's kind by its Go type, which its kind field may not say yet.
func kindOf(obj v1alpha1.Object) string {
	switch obj.(type) {
	case *v1alpha1.Recipe:
		return v1alpha1.KindRecipe
	case *v1alpha1.TestRun:
		return v1alpha1.KindTestRun
	case *v1alpha1.Repository:
		return v1alpha1.KindRepository
	}
	return fmt.Sprintf("%T", obj)
}

// objectName is kind/name in lower case, as problems name objects.
func objectName(obj v1alpha1.Object) string {
	kind := strings.ToLower(kindOf(obj))
	if name := obj.GetObjectMeta().Name; name != "" {
		return kind + "/" + name
	}
	return kind
}

type validator struct {
	object   string
	problems []Problem
}

func (v *validator) add(field, format string, args ...any) {
	v.problems = append(v.problems, Problem{Object: v.object, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) typeMeta(t v1alpha1.TypeMeta, kind string) {
	if t.APIVersion != "" && t.APIVersion != v1alpha1.APIVersion {
		v.add("apiVersion", "unsupported apiVersion %s (want %s)", quote(t.APIVersion), v1alpha1.APIVersion)
	}
	if t.Kind != "" && t.Kind != kind {
		v.add("kind", "kind %s does not match the object, a %s", quote(t.Kind), kind)
	}
}

func (v *validator) meta(m v1alpha1.ObjectMeta) {
	v.name("metadata.name", m.Name, "")
	for _, k := range slices.Sorted(maps.Keys(m.Labels)) {
		field := "metadata.labels[" + k + "]"
		if !qualifiedName(k) {
			v.add(field, "invalid label key (want [prefix/]name: a DNS subdomain prefix, and a name of at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)")
		}
		if val := m.Labels[k]; val != "" && !labelName(val) {
			v.add(field, "invalid label value %s (want at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)", quote(val))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m.Annotations)) {
		if !qualifiedName(k) {
			v.add("metadata.annotations["+k+"]", "invalid annotation key (want [prefix/]name, as for labels)")
		}
	}
	for i, f := range m.Finalizers {
		if !qualifiedName(f) {
			v.add(fmt.Sprintf("metadata.finalizers[%d]", i), "invalid finalizer %s (want [prefix/]name, as for labels)", quote(f))
		}
	}
}

// ValidName reports whether name may name a Recipe or a TestRun: a DNS label of at most
// MaxNameLength characters. Whatever passes is safe as one path element.
func ValidName(name string) bool { return len(name) <= MaxNameLength && dnsLabel(name) }

// name checks the name of a Recipe or TestRun at field; what says what a missing one is.
func (v *validator) name(field, name, what string) {
	switch {
	case name == "" && what != "":
		v.add(field, "required: %s", what)
	case name == "":
		v.add(field, "required")
	case len(name) > MaxNameLength:
		v.add(field, "%s is %d characters long; at most %d keep the swarm names derived from it within the engine's 63", quote(name), len(name), MaxNameLength)
	case !dnsLabel(name):
		v.add(field, "%s is not a DNS label (lower case letters, digits and '-', starting and ending with a letter or digit)", quote(name))
	}
}

func (v *validator) recipe(s *v1alpha1.RecipeSpec) {
	switch url := s.Source.URL; {
	case url == "":
		v.add("spec.source.url", "required: a git URL or a local path")
	case strings.HasPrefix(url, "-"):
		v.add("spec.source.url", "%s must not start with '-'", quote(url))
	case hasControl(url):
		v.add("spec.source.url", "%s contains a space or a control character", quote(url))
	}
	v.ref("spec.source.targetBranch", s.Source.TargetBranch)
	v.env("spec.env", s.Env)
	v.overlays("spec.overlays", s.Overlays)
	v.images("spec.images", s.Images)
	if p := s.Previous; p != nil {
		if strings.TrimSpace(p.Version) == "" {
			v.add("spec.previous.version", "required: the published version the repairs apply to")
		}
		v.overlays("spec.previous.overlays", p.Overlays)
		v.env("spec.previous.env", p.Env)
	}
	for _, stage := range slices.Sorted(maps.Keys(s.ExpectedNotApplicable)) {
		field := "spec.expectedNotApplicable[" + string(stage) + "]"
		switch {
		case !stage.Known():
			v.add(field, "unknown stage %s (want one of %s)", quote(string(stage)), stageList())
		case stage == v1alpha1.StageInstall:
			v.add(field, "install always applies: every run deploys the recipe")
		case strings.TrimSpace(s.ExpectedNotApplicable[stage]) == "":
			v.add(field, "required: the reason the stage does not apply")
		}
	}
	v.duration("spec.timeouts.deploy", s.Timeouts.Deploy)
	v.checks(s)
}

func (v *validator) testRun(s *v1alpha1.TestRunSpec) {
	v.name("spec.recipe", s.Recipe, "the name of a Recipe")
	v.ref("spec.head", s.Head)
	v.ref("spec.upgradeBase", s.UpgradeBase)
	v.stages("spec.stages", s.Stages)
	v.teardown("spec.teardown", s.Teardown)
	v.duration("spec.timeout", s.Timeout)
	v.env("spec.env", s.Env)
	v.images("spec.images", s.Images)
	v.base("spec.base", s.Base, s.UpgradeBase, s.Stages)
}

// base checks a run's base (spec.base, or a Repository's spec.template.base) at field: a known
// place to start from, and warm only where an upgrade base is asked for and no explicit one is
// given.
func (v *validator) base(field string, b *v1alpha1.BaseSource, upgradeBase string, stages []v1alpha1.Stage) {
	if b == nil || b.From == "" {
		return
	}
	parent := strings.TrimSuffix(field, ".base")
	switch {
	case !b.From.Known():
		v.add(field+".from", "unknown base %s (want %s or %s)", quote(string(b.From)), v1alpha1.BaseFromCold, v1alpha1.BaseFromWarm)
	case b.From == v1alpha1.BaseFromWarm && upgradeBase != "":
		v.add(field+".from", "warm starts from the warm stack's canonical version, and %s.upgradeBase names another base: choose one", parent)
	case b.From == v1alpha1.BaseFromWarm && len(stages) > 0 && !slices.Contains(stages, v1alpha1.StageUpgrade):
		v.add(field+".from", "warm is an upgrade base, and the upgrade stage is not in %s.stages", parent)
	}
}

func (v *validator) stages(field string, stages []v1alpha1.Stage) {
	seen := map[v1alpha1.Stage]bool{}
	for i, stage := range stages {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !stage.Known():
			v.add(f, "unknown stage %s (want one of %s)", quote(string(stage)), stageList())
		case seen[stage]:
			v.add(f, "duplicate stage %s", quote(string(stage)))
		}
		seen[stage] = true
	}
}

func (v *validator) teardown(field string, t v1alpha1.TeardownPolicy) {
	if t != "" && !t.Known() {
		names := make([]string, 0, 3)
		for _, p := range v1alpha1.TeardownPolicies() {
			names = append(names, string(p))
		}
		v.add(field, "unknown teardown policy %s (want one of %s)", quote(string(t)), strings.Join(names, ", "))
	}
}

func (v *validator) duration(field string, d *v1alpha1.Duration) {
	if d != nil && d.Duration <= 0 {
		v.add(field, "must be positive, got %s", d.Duration)
	}
}

// ref checks a git ref that swarmrun passes to git: a subset of git check-ref-format, plus no
// leading '-', which git would read as an option.
func (v *validator) ref(field, ref string) {
	if ref == "" {
		return
	}
	if why := badRef(ref); why != "" {
		v.add(field, "%s is not a git ref: %s", quote(ref), why)
	}
}

func badRef(ref string) string {
	switch {
	case len(ref) > 255:
		return "longer than 255 characters"
	case strings.HasPrefix(ref, "-"):
		return "starts with '-'"
	case hasControl(ref):
		return "contains a space or a control character"
	case strings.Contains(ref, ".."):
		return `contains ".."`
	case strings.Contains(ref, "@{"):
		return `contains "@{"`
	case strings.Contains(ref, "//"):
		return `contains "//"`
	case ref == "@":
		return `is "@"`
	case strings.HasPrefix(ref, "/"), strings.HasSuffix(ref, "/"):
		return "starts or ends with '/'"
	case strings.HasSuffix(ref, "."), strings.HasSuffix(ref, ".lock"):
		return `ends with "." or ".lock"`
	case strings.HasPrefix(ref, "."), strings.Contains(ref, "/."):
		return "a part starts with '.'"
	}
	if i := strings.IndexAny(ref, `~^:?*[\`); i >= 0 {
		return fmt.Sprintf("contains %q", ref[i])
	}
	return ""
}

func (v *validator) env(field string, env map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(env)) {
		f := field + "[" + k + "]"
		if !envName(k) {
			v.add(f, "invalid environment variable name (want letters, digits and '_', not starting with a digit)")
		}
		if strings.ContainsRune(env[k], 0) {
			v.add(f, "the value contains a NUL byte")
		}
	}
}

func (v *validator) overlays(field string, overlays []json.RawMessage) {
	for i, o := range overlays {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !json.Valid(o) {
			v.add(f, "invalid JSON")
			continue
		}
		if got := jsonKind(o); got != "a mapping" {
			v.add(f, "an overlay must be a mapping (a compose fragment), got %s", got)
		}
	}
}

// jsonKind names the kind of a valid JSON value.
func jsonKind(raw json.RawMessage) string {
	s := strings.TrimLeft(string(raw), " \t\r\n")
	switch {
	case strings.HasPrefix(s, "{"):
		return "a mapping"
	case strings.HasPrefix(s, "["):
		return "a sequence"
	case strings.HasPrefix(s, `"`):
		return "a string"
	case strings.HasPrefix(s, "null"):
		return "null"
	case strings.HasPrefix(s, "true"), strings.HasPrefix(s, "false"):
		return "a boolean"
	}
	return "a number"
}

// tier is a test tier's checks, in one or two lists.
type tier struct {
	stage v1alpha1.Stage
	field string
	lists []checkList
}

type checkList struct {
	field  string
	checks []v1alpha1.Check
}

func (v *validator) checks(s *v1alpha1.RecipeSpec) {
	v.checkTiers("spec.checks", s.Checks, s.ExpectedNotApplicable)
}

// checkTiers validates the checks of every tier, under the field path prefix; na are the
// stages declared not applicable, which must have no checks.
func (v *validator) checkTiers(prefix string, c v1alpha1.Checks, na map[v1alpha1.Stage]string) {
	tiers := []tier{
		{v1alpha1.StageInstall, prefix + ".install", []checkList{{prefix + ".install", c.Install}}},
		{v1alpha1.StageUpgrade, prefix + ".upgrade", []checkList{
			{prefix + ".upgrade.before", c.Upgrade.Before}, {prefix + ".upgrade.after", c.Upgrade.After}}},
		{v1alpha1.StageBackup, prefix + ".backup", []checkList{{prefix + ".backup", c.Backup}}},
		{v1alpha1.StageRestore, prefix + ".restore", []checkList{{prefix + ".restore", c.Restore}}},
		{v1alpha1.StageCustom, prefix + ".custom", []checkList{{prefix + ".custom", c.Custom}}},
	}
	for _, t := range tiers {
		seen := map[string]bool{}
		hasChecks := false
		for _, l := range t.lists {
			for i, chk := range l.checks {
				hasChecks = true
				field := fmt.Sprintf("%s[%d]", l.field, i)
				v.check(field, chk)
				if chk.Name != "" && seen[chk.Name] {
					v.add(field+".name", "duplicate check name %s in tier %s", quote(chk.Name), t.stage)
				}
				seen[chk.Name] = true
			}
		}
		if _, na := na[t.stage]; hasChecks && na {
			v.add(t.field, "the tier has checks, but spec.expectedNotApplicable says it does not apply")
		}
	}
}

// httpMethods are the methods an http check may use: the ones its probe sends (a GET, or a
// PUT of the check's body).
func httpMethods() []string {
	return []string{"GET", "PUT"}
}

func (v *validator) check(field string, c v1alpha1.Check) {
	switch {
	case c.Name == "":
		v.add(field+".name", "required")
	case len(c.Name) > 63 || !dnsLabel(c.Name):
		v.add(field+".name", "%s is not a DNS label (at most 63 lower case letters, digits and '-', starting and ending with a letter or digit)", quote(c.Name))
	}
	var kinds []string
	if c.HTTP != nil {
		kinds = append(kinds, "http")
	}
	if c.Exec != nil {
		kinds = append(kinds, "exec")
	}
	if c.Job != nil {
		kinds = append(kinds, "job")
	}
	switch len(kinds) {
	case 0:
		v.add(field, "exactly one of http, exec or job is required")
	case 1:
	default:
		v.add(field, "exactly one of http, exec or job is allowed, got %s", strings.Join(kinds, " and "))
	}
	if h := c.HTTP; h != nil {
		v.service(field+".http.service", h.Service, "the compose service to request")
		switch {
		case h.Port == 0:
			v.add(field+".http.port", "required: the port the service listens on")
		case h.Port < 1 || h.Port > 65535:
			v.add(field+".http.port", "must be between 1 and 65535, got %d", h.Port)
		}
		if h.ExpectStatus != 0 && (h.ExpectStatus < 100 || h.ExpectStatus > 599) {
			v.add(field+".http.expectStatus", "must be between 100 and 599, got %d", h.ExpectStatus)
		}
		if h.Path != "" && (!strings.HasPrefix(h.Path, "/") || hasControl(h.Path)) {
			v.add(field+".http.path", "%s must start with '/' and contain no spaces or control characters", quote(h.Path))
		}
		if h.Method != "" && !slices.Contains(httpMethods(), h.Method) {
			v.add(field+".http.method", "unknown method %s (want one of %s)", quote(h.Method), strings.Join(httpMethods(), ", "))
		}
		if h.Body != "" && h.Method != "PUT" {
			v.add(field+".http.body", "a body is sent with method PUT only")
		}
	}
	if e := c.Exec; e != nil {
		v.service(field+".exec.service", e.Service, "the compose service to run the command in")
		v.command(field+".exec.command", e.Command, true)
	}
	if j := c.Job; j != nil {
		switch {
		case j.Image == "":
			v.add(field+".job.image", "required: the image to run")
		case hasControl(j.Image) || strings.HasPrefix(j.Image, "-"):
			v.add(field+".job.image", "%s is not an image reference", quote(j.Image))
		}
		v.command(field+".job.command", j.Command, false)
		v.env(field+".job.env", j.Env)
	}
	v.duration(field+".timeout", c.Timeout)
}

func (v *validator) service(field, name, what string) {
	switch {
	case name == "":
		v.add(field, "required: %s", what)
	case !serviceName(name):
		v.add(field, "%s is not a compose service name (letters, digits, '_', '.' and '-', starting with a letter or digit)", quote(name))
	}
}

func (v *validator) command(field string, cmd []string, required bool) {
	if len(cmd) == 0 {
		if required {
			v.add(field, "required: the command to run, as a list of arguments")
		}
		return
	}
	if cmd[0] == "" {
		v.add(field+"[0]", "the program must not be empty")
	}
	for i, a := range cmd {
		if strings.ContainsRune(a, 0) {
			v.add(fmt.Sprintf("%s[%d]", field, i), "contains a NUL byte")
		}
	}
}

func stageList() string {
	names := make([]string, 0, 5)
	for _, s := range v1alpha1.Stages() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// dnsLabel reports whether s is an RFC 1123 label: at most 63 lower case letters, digits and
// '-', starting and ending with a letter or digit.
func dnsLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// dnsSubdomain reports whether s is an RFC 1123 subdomain: dot-separated labels, at most 253
// characters.
func dnsSubdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if !dnsLabel(part) {
			return false
		}
	}
	return true
}

// labelName reports whether s is a label name or value: at most 63 letters, digits, '-', '_'
// or '.', starting and ending with a letter or digit.
func labelName(s string) bool {
	if len(s) == 0 || len(s) > 63 || !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	for _, c := range []byte(s) {
		if !alnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// qualifiedName reports whether s is [prefix/]name, as label keys, annotation keys and
// finalizers are.
func qualifiedName(s string) bool {
	prefix, name, found := strings.Cut(s, "/")
	if !found {
		return labelName(s)
	}
	return dnsSubdomain(prefix) && labelName(name)
}

// serviceName reports whether s is a compose service name.
func serviceName(s string) bool {
	if len(s) == 0 || len(s) > 63 || !alnum(s[0]) {
		return false
	}
	for _, c := range []byte(s) {
		if !alnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// envName reports whether s is a portable environment variable name.
func envName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range []byte(s) {
		if !alnum(c) && c != '_' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// hasControl reports whether s holds a space, a control character or invalid UTF-8.
func hasControl(s string) bool {
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == 0xfffd {
			return true
		}
	}
	return false
}
