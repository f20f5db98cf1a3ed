package spec

import (
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

func validRepository() *v1alpha1.Repository {
	return &v1alpha1.Repository{
		ObjectMeta: v1alpha1.ObjectMeta{Name: "demo"},
		Spec: v1alpha1.RepositorySpec{
			Forge:             v1alpha1.ForgeForgejo,
			URL:               "https://git.example.org",
			Owner:             "recipes",
			Repo:              "demo",
			Recipe:            "demo",
			TokenFile:         "token",
			WebhookSecretFile: "demo/webhook-secret",
			Trigger:           v1alpha1.RepositoryTrigger{Users: []string{"alice"}},
		},
	}
}

func TestValidateRepository(t *testing.T) {
	tests := []struct {
		name   string
		change func(*v1alpha1.Repository)
		want   []string
	}{
		{"valid", func(*v1alpha1.Repository) {}, nil},
		{"valid, defaulted", func(r *v1alpha1.Repository) { r.Default() }, nil},
		{"polling only, a team, a template", func(r *v1alpha1.Repository) {
			r.Spec.WebhookSecretFile = ""
			r.Spec.PollInterval = &v1alpha1.Duration{Duration: time.Minute}
			r.Spec.Trigger = v1alpha1.RepositoryTrigger{Phrase: "/swarmrun test", Teams: []v1alpha1.TeamRef{{Org: "recipes", Team: "maintainers"}, {Org: "coop"}}}
			r.Spec.Template = v1alpha1.TestRunTemplate{Stages: []v1alpha1.Stage{v1alpha1.StageInstall}, Teardown: v1alpha1.TeardownNever,
				Timeout: &v1alpha1.Duration{Duration: time.Hour}, Env: map[string]string{"DOMAIN": "x"}, UpgradeBase: "0.1.0+1"}
		}, nil},
		{"plain http on a loopback host", func(r *v1alpha1.Repository) { r.Spec.URL = "http://127.0.0.1:3000/gitea/" }, nil},
		{"empty", func(r *v1alpha1.Repository) { r.Spec = v1alpha1.RepositorySpec{} }, []string{
			"repository/demo: spec.forge: required (want one of forgejo, gitea)",
			"repository/demo: spec.url: required: the forge's root URL, such as https://codeberg.org",
			"repository/demo: spec.owner: required: the repository's owner on the forge",
			"repository/demo: spec.repo: required: the repository's name on the forge",
			"repository/demo: spec.recipe: required: the name of a Recipe",
			"repository/demo: spec.tokenFile: required: a file name in serve's forge secrets directory (--forge-secrets-dir/<host of spec.url>/)",
			"repository/demo: spec.trigger: required: at least one of users or teams, the only people who may ask for a run",
			"repository/demo: spec: set webhookSecretFile, pollInterval or both: without either no comment is ever seen",
		}},
		{"unknown forge, plain http elsewhere", func(r *v1alpha1.Repository) {
			r.Spec.Forge = "github"
			r.Spec.URL = "http://git.example.org"
		}, []string{
			`repository/demo: spec.forge: unknown forge "github" (want one of forgejo, gitea)`,
			`repository/demo: spec.url: "http://git.example.org" is plain http: the forge token would cross the network unencrypted (http is allowed on a loopback host only)`,
		}},
		{"urls that are not a forge's root", func(r *v1alpha1.Repository) { r.Spec.URL = "https://bot:hunter2@git.example.org" }, []string{
			`repository/demo: spec.url: "https://bot:hunter2@git.example.org" carries credentials: the token comes from spec.tokenFile`}},
		{"url with a query", func(r *v1alpha1.Repository) { r.Spec.URL = "https://git.example.org/?x=1" }, []string{
			`repository/demo: spec.url: "https://git.example.org/?x=1" has a query or a fragment`}},
		{"url without a host", func(r *v1alpha1.Repository) { r.Spec.URL = "git.example.org" }, []string{
			`repository/demo: spec.url: "git.example.org" has no host (want https://HOST[/PATH])`}},
		{"url scheme", func(r *v1alpha1.Repository) { r.Spec.URL = "ssh://git.example.org" }, []string{
			`repository/demo: spec.url: "ssh://git.example.org": unsupported scheme "ssh" (want https)`}},
		{"names that would leave the API path", func(r *v1alpha1.Repository) {
			r.Spec.Owner = ".."
			r.Spec.Repo = "demo/../../admin"
			r.Spec.Recipe = "Demo"
		}, []string{
			`repository/demo: spec.owner: ".." is not a forge name (letters, digits, '-', '_' and '.', not starting with '-')`,
			`repository/demo: spec.repo: "demo/../../admin" is not a forge name (letters, digits, '-', '_' and '.', not starting with '-')`,
			`repository/demo: spec.recipe: "Demo" is not a DNS label (lower case letters, digits and '-', starting and ending with a letter or digit)`,
		}},
		{"secret files outside the secrets directory", func(r *v1alpha1.Repository) {
			r.Spec.TokenFile = "/var/lib/swarmrun/token"
			r.Spec.WebhookSecretFile = "../other-host/secret"
		}, []string{
			`repository/demo: spec.tokenFile: "/var/lib/swarmrun/token" must be a clean relative path inside serve's forge secrets directory for the forge's host, without '..'`,
			`repository/demo: spec.webhookSecretFile: "../other-host/secret" must be a clean relative path inside serve's forge secrets directory for the forge's host, without '..'`,
		}},
		{"unclean secret file", func(r *v1alpha1.Repository) { r.Spec.TokenFile = "a//token" }, []string{
			`repository/demo: spec.tokenFile: "a//token" must be a clean relative path inside serve's forge secrets directory for the forge's host, without '..'`}},
		{"trigger", func(r *v1alpha1.Repository) {
			r.Spec.Trigger = v1alpha1.RepositoryTrigger{
				Phrase: " !testme\n",
				Users:  []string{"alice", "Alice", "-bob", ""},
				Teams:  []v1alpha1.TeamRef{{Team: "x"}, {Org: "o", Team: "t"}, {Org: "O", Team: "T"}},
			}
		}, []string{
			`repository/demo: spec.trigger.phrase: " !testme\n" must not start or end with white space, or contain a control character`,
			`repository/demo: spec.trigger.users[1]: duplicate user "Alice"`,
			`repository/demo: spec.trigger.users[2]: "-bob" is not a forge name (letters, digits, '-', '_' and '.', not starting with '-')`,
			`repository/demo: spec.trigger.users[3]: required: a forge login`,
			`repository/demo: spec.trigger.teams[0].org: required: the organisation on the forge`,
			`repository/demo: spec.trigger.teams[2]: duplicate team "O/T"`,
		}},
		{"long phrase", func(r *v1alpha1.Repository) { r.Spec.Trigger.Phrase = strings.Repeat("x", 65) }, []string{
			"repository/demo: spec.trigger.phrase: 65 bytes long, at most 64"}},
		{"poll intervals", func(r *v1alpha1.Repository) { r.Spec.PollInterval = &v1alpha1.Duration{Duration: time.Second} }, []string{
			"repository/demo: spec.pollInterval: at least 10s, got 1s: every poll is a request to the forge"}},
		{"negative poll interval", func(r *v1alpha1.Repository) {
			r.Spec.PollInterval = &v1alpha1.Duration{Duration: -time.Minute}
		}, []string{"repository/demo: spec.pollInterval: must not be negative, got -1m0s (0 means webhook deliveries only)"}},
		{"template", func(r *v1alpha1.Repository) {
			r.Spec.Template = v1alpha1.TestRunTemplate{
				Stages:      []v1alpha1.Stage{"instal", v1alpha1.StageInstall, v1alpha1.StageInstall},
				UpgradeBase: "-x",
				Teardown:    "Sometimes",
				Timeout:     &v1alpha1.Duration{},
				Env:         map[string]string{"1X": ""},
			}
		}, []string{
			`repository/demo: spec.template.stages[0]: unknown stage "instal" (want one of install, upgrade, backup, restore, custom)`,
			`repository/demo: spec.template.stages[2]: duplicate stage "install"`,
			`repository/demo: spec.template.upgradeBase: "-x" is not a git ref: starts with '-'`,
			`repository/demo: spec.template.teardown: unknown teardown policy "Sometimes" (want one of Always, OnSuccess, Never)`,
			"repository/demo: spec.template.timeout: must be positive, got 0s",
			"repository/demo: spec.template.env[1X]: invalid environment variable name (want letters, digits and '_', not starting with a digit)",
		}},
		{"template base", func(r *v1alpha1.Repository) {
			r.Spec.Template = v1alpha1.TestRunTemplate{UpgradeBase: "0.1.0+1", Base: &v1alpha1.BaseSource{From: v1alpha1.BaseFromWarm}}
		}, []string{
			"repository/demo: spec.template.base.from: warm starts from the warm stack's canonical version, and spec.template.upgradeBase names another base: choose one",
		}},
		{"template base without upgrade", func(r *v1alpha1.Repository) {
			r.Spec.Template = v1alpha1.TestRunTemplate{Stages: []v1alpha1.Stage{v1alpha1.StageInstall}, Base: &v1alpha1.BaseSource{From: "lukewarm"}}
		}, []string{
			`repository/demo: spec.template.base.from: unknown base "lukewarm" (want cold or warm)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRepository()
			tt.change(r)
			assertProblems(t, Validate(r), tt.want)
		})
	}
	t.Run("kind may not change", func(t *testing.T) {
		assertProblems(t, ValidateUpdate(validRecipe(), validRepository()), []string{
			"repository/demo: kind: cannot change from Recipe to Repository"})
	})
}

// repositoryYAML is a Repository as a file holds it, with a status the reader must drop.
const repositoryYAML = `apiVersion: swarmrun.dev/v1alpha1
kind: Repository
metadata: {name: demo}
spec:
  forge: gitea
  url: https://git.example.org
  owner: recipes
  repo: demo
  recipe: demo
  tokenFile: token
  pollInterval: 2m
  trigger: {users: [alice]}
status:
  pending: [{id: 1, pullRequest: 1}]
`

func TestReadRepository(t *testing.T) {
	misspelt := strings.Replace(repositoryYAML, "trigger: {users: [alice]}", "trigger: {users: [alice], teems: []}", 1)
	docs, err := Read("repo.yaml", strings.NewReader(misspelt))
	if err == nil {
		t.Fatalf("a misspelt field was read: %+v", docs)
	}
	if want := `repo.yaml:12: spec.trigger: unknown field "teems" (did you mean "teams"?)`; err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	docs, err = Read("repo.yaml", strings.NewReader(repositoryYAML))
	if err != nil {
		t.Fatal(err)
	}
	r, ok := docs[0].Object.(*v1alpha1.Repository)
	if !ok {
		t.Fatalf("read %T, want a Repository", docs[0].Object)
	}
	if r.Spec.Trigger.Phrase != v1alpha1.DefaultTriggerPhrase || r.Spec.Poll() != 2*time.Minute {
		t.Errorf("read %+v: want the default phrase and a 2m poll", r.Spec)
	}
	if len(r.Status.Pending) != 0 {
		t.Errorf("the file's status was kept: %+v", r.Status)
	}
}
