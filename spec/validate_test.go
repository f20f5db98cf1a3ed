package spec

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

func validRecipe() *v1alpha1.Recipe {
	return &v1alpha1.Recipe{
		ObjectMeta: v1alpha1.ObjectMeta{Name: "demo"},
		Spec: v1alpha1.RecipeSpec{
			Source: v1alpha1.RecipeSource{URL: "https://git.example.org/recipes/demo.git"},
			Checks: v1alpha1.Checks{Install: []v1alpha1.Check{
				{Name: "home", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080}},
			}},
		},
	}
}

// validTestRun is valid before defaulting too: the API server validates what it receives.
func validTestRun() *v1alpha1.TestRun {
	return &v1alpha1.TestRun{
		ObjectMeta: v1alpha1.ObjectMeta{Name: "demo-pr1"},
		Spec:       v1alpha1.TestRunSpec{Recipe: "demo"},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		obj  func() v1alpha1.Object
		want []string
	}{
		{"valid recipe", func() v1alpha1.Object { return validRecipe() }, nil},
		{"valid testrun", func() v1alpha1.Object { return validTestRun() }, nil},
		{"valid defaulted testrun", func() v1alpha1.Object { r := validTestRun(); r.Default(); return r }, nil},
		{"name of the longest length", func() v1alpha1.Object {
			r := validTestRun()
			r.Name = strings.Repeat("a", MaxNameLength)
			return r
		}, nil},
		{"name one too long", func() v1alpha1.Object {
			r := validRecipe()
			r.Name = strings.Repeat("a", MaxNameLength+1)
			return r
		}, []string{`recipe/` + strings.Repeat("a", MaxNameLength+1) + `: metadata.name: "` + strings.Repeat("a", MaxNameLength+1) + `" is 41 characters long; at most 40 keep the swarm names derived from it within the engine's 63`}},
		{"empty recipe reference", func() v1alpha1.Object {
			r := validTestRun()
			r.Spec.Recipe = ""
			return r
		}, []string{"testrun/demo-pr1: spec.recipe: required: the name of a Recipe"}},
		{"no name", func() v1alpha1.Object {
			r := validTestRun()
			r.Name = ""
			return r
		}, []string{"testrun: metadata.name: required"}},
		{"wrong apiVersion and kind", func() v1alpha1.Object {
			r := validTestRun()
			r.APIVersion, r.Kind = "v1", "Recipe"
			return r
		}, []string{
			`testrun/demo-pr1: apiVersion: unsupported apiVersion "v1" (want swarmrun.dev/v1alpha1)`,
			`testrun/demo-pr1: kind: kind "Recipe" does not match the object, a TestRun`,
		}},
		{"overlays that are not mappings", func() v1alpha1.Object {
			r := validRecipe()
			r.Spec.Overlays = []json.RawMessage{json.RawMessage(`[1]`), json.RawMessage(`{`), json.RawMessage(` {"a":1}`)}
			return r
		}, []string{
			"recipe/demo: spec.overlays[0]: an overlay must be a mapping (a compose fragment), got a sequence",
			"recipe/demo: spec.overlays[1]: invalid JSON",
		}},
		{"job check", func() v1alpha1.Object {
			r := validRecipe()
			r.Spec.Checks.Custom = []v1alpha1.Check{{Name: "smoke", Job: &v1alpha1.JobCheck{
				Image: "-rm", Command: []string{""}, Env: map[string]string{"OK": "a\x00b"}}}}
			return r
		}, []string{
			`recipe/demo: spec.checks.custom[0].job.image: "-rm" is not an image reference`,
			"recipe/demo: spec.checks.custom[0].job.command[0]: the program must not be empty",
			"recipe/demo: spec.checks.custom[0].job.env[OK]: the value contains a NUL byte",
		}},
		{"check timeout and deploy timeout", func() v1alpha1.Object {
			r := validRecipe()
			r.Spec.Checks.Install[0].Timeout = &v1alpha1.Duration{Duration: -time.Second}
			r.Spec.Timeouts.Deploy = &v1alpha1.Duration{}
			return r
		}, []string{
			"recipe/demo: spec.timeouts.deploy: must be positive, got 0s",
			"recipe/demo: spec.checks.install[0].timeout: must be positive, got -1s",
		}},
		{"refs", func() v1alpha1.Object {
			r := validTestRun()
			r.Spec.Head = "refs/heads/x.lock"
			r.Spec.UpgradeBase = "v1^{}"
			return r
		}, []string{
			`testrun/demo-pr1: spec.head: "refs/heads/x.lock" is not a git ref: ends with "." or ".lock"`,
			`testrun/demo-pr1: spec.upgradeBase: "v1^{}" is not a git ref: contains '^'`,
		}},
		{"warm base", func() v1alpha1.Object {
			r := validTestRun()
			r.Spec.Base = &v1alpha1.BaseSource{From: v1alpha1.BaseFromWarm}
			return r
		}, nil},
		{"unknown base", func() v1alpha1.Object {
			r := validTestRun()
			r.Spec.Base = &v1alpha1.BaseSource{From: "tepid"}
			return r
		}, []string{`testrun/demo-pr1: spec.base.from: unknown base "tepid" (want cold or warm)`}},
		{"warm base with an explicit base", func() v1alpha1.Object {
			r := validTestRun()
			r.Spec.Base = &v1alpha1.BaseSource{From: v1alpha1.BaseFromWarm}
			r.Spec.UpgradeBase = "0.1.0+1"
			return r
		}, []string{"testrun/demo-pr1: spec.base.from: warm starts from the warm stack's canonical version, and spec.upgradeBase names another base: choose one"}},
		{"warm base without the upgrade stage", func() v1alpha1.Object {
			r := validTestRun()
			r.Spec.Base = &v1alpha1.BaseSource{From: v1alpha1.BaseFromWarm}
			r.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall}
			return r
		}, []string{"testrun/demo-pr1: spec.base.from: warm is an upgrade base, and the upgrade stage is not in spec.stages"}},
		{"metadata", func() v1alpha1.Object {
			r := validTestRun()
			r.Labels = map[string]string{"example.org/tier": "gold", "Example.org/x": "y"}
			r.Annotations = map[string]string{"note": "anything at all, even spaces", "bad key": ""}
			r.Finalizers = []string{v1alpha1.FinalizerTeardown, "not a finalizer"}
			return r
		}, []string{
			"testrun/demo-pr1: metadata.labels[Example.org/x]: invalid label key (want [prefix/]name: a DNS subdomain prefix, and a name of at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)",
			"testrun/demo-pr1: metadata.annotations[bad key]: invalid annotation key (want [prefix/]name, as for labels)",
			`testrun/demo-pr1: metadata.finalizers[1]: invalid finalizer "not a finalizer" (want [prefix/]name, as for labels)`,
		}},
		{"nil recipe", func() v1alpha1.Object { return (*v1alpha1.Recipe)(nil) },
			[]string{"no object: a nil *v1alpha1.Recipe"}},
		{"other object", func() v1alpha1.Object { return &otherObject{} },
			[]string{"unsupported object *spec.otherObject (want a Recipe, a TestRun or a Repository)"}},
		{"nil", func() v1alpha1.Object { return nil },
			[]string{"unsupported object <nil> (want a Recipe, a TestRun or a Repository)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertProblems(t, Validate(tt.obj()), tt.want)
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*v1alpha1.TestRun)
		want   []string
	}{
		{"head may change", func(r *v1alpha1.TestRun) { r.Spec.Head = "v2" }, nil},
		{"recipe may not", func(r *v1alpha1.TestRun) { r.Spec.Recipe = "other" }, []string{
			`testrun/demo-pr1: spec.recipe: cannot change from "demo" to "other": a run belongs to one recipe; create a new TestRun instead`}},
		{"name may not", func(r *v1alpha1.TestRun) { r.Name = "demo-pr2" }, []string{
			`testrun/demo-pr2: metadata.name: cannot change from "demo-pr1" to "demo-pr2"`}},
		{"the new object is validated", func(r *v1alpha1.TestRun) { r.Spec.Teardown = "Sometimes" }, []string{
			`testrun/demo-pr1: spec.teardown: unknown teardown policy "Sometimes" (want one of Always, OnSuccess, Never)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, new := validTestRun(), validTestRun()
			tt.change(new)
			assertProblems(t, ValidateUpdate(old, new), tt.want)
		})
	}
	t.Run("nil objects", func(t *testing.T) {
		assertProblems(t, ValidateUpdate((*v1alpha1.TestRun)(nil), validTestRun()), nil)
		assertProblems(t, ValidateUpdate(validTestRun(), (*v1alpha1.TestRun)(nil)), []string{
			"no object: a nil *v1alpha1.TestRun"})
	})
	t.Run("swarmrun's finalizers are the controllers'", func(t *testing.T) {
		old, new := validTestRun(), validTestRun()
		old.Finalizers = []string{v1alpha1.FinalizerTeardown, "example.org/hold"}
		new.Finalizers = []string{"example.org/hold"}
		assertProblems(t, ValidateUpdate(old, new), []string{
			"testrun/demo-pr1: metadata.finalizers: swarmrun's finalizers (swarmrun.dev/teardown) are its controllers' to add and remove: keep [swarmrun.dev/teardown]"})
		new.Finalizers = []string{v1alpha1.FinalizerTeardown}
		assertProblems(t, ValidateUpdate(old, new), nil)
	})
	t.Run("kind may not", func(t *testing.T) {
		assertProblems(t, ValidateUpdate(validTestRun(), validRecipe()), []string{
			"recipe/demo: kind: cannot change from TestRun to Recipe"})
	})
}

// otherObject is an Object that spec does not know.
type otherObject struct {
	v1alpha1.TypeMeta
	v1alpha1.ObjectMeta
}

// TestNameLengthFitsTheEngine keeps the arithmetic of MaxNameLength honest.
func TestNameLengthFitsTheEngine(t *testing.T) {
	const engineLimit, hexSuffix, shortService = 63, 6, len("sidekiq")
	runStack := MaxNameLength + len("-") + hexSuffix
	warmStack := len("warm-") + MaxNameLength
	for _, stack := range []int{runStack, warmStack} {
		if n := stack + len("_") + shortService; n > engineLimit {
			t.Errorf("a %d-character stack with a %d-character service makes a %d-character name, over %d",
				stack, shortService, n, engineLimit)
		}
	}
}

func assertProblems(t *testing.T, got []Problem, want []string) {
	t.Helper()
	var lines []string
	for _, p := range got {
		lines = append(lines, p.String())
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestNameRulesMatchTheirGrammars checks the hand-written name checks against the regular
// expressions they implement.
func TestNameRulesMatchTheirGrammars(t *testing.T) {
	tests := []struct {
		name  string
		check func(string) bool
		re    *regexp.Regexp
		max   int
		// chars are mostly the valid ones, so that valid strings come up often.
		chars string
	}{
		{"dns label", dnsLabel, regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`), 63, `[a0\-A.]{0,66}`},
		{"label name", labelName, regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`), 63, `[aZ0\-_.%]{0,66}`},
		{"env name", envName, regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`), 1 << 20, `[aZ0_\-]{0,10}`},
		{"service name", serviceName, regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`), 63, `[aZ0_.\- é]{0,66}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				s := rapid.StringMatching(tt.chars).Draw(t, "s")
				want := len(s) <= tt.max && tt.re.MatchString(s)
				if got := tt.check(s); got != want {
					t.Fatalf("%s(%q) = %v, want %v", tt.name, s, got, want)
				}
			})
		})
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"discourse": true, "disc-pr4": true, "a": true, strings.Repeat("a", MaxNameLength): true,
		"": false, strings.Repeat("a", MaxNameLength+1): false, "..": false, "a/b": false, "-a": false, "a-": false,
		"A": false, "a.b": false, "a%2fb": false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}
