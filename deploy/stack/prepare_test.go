package stack

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/policy"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/internal/mask"
	"github.com/swarmrun/swarmrun/internal/testkit"
)

// prepare renders compose (with the test recipe's .env.sample) as a head of recipe demo,
// under pol, with the secret key of dataDir (a new one when empty).
func prepare(t *testing.T, pol policy.Policy, compose, seed, dataDir string) (*Prepared, *mask.Masker, error) {
	t.Helper()
	repo := testkit.NewRepo(t, "main")
	commit := repo.Commit("head", map[string]string{"compose.yml": compose, ".env.sample": testkit.EnvSample})
	return prepareRepo(t, pol, repo.Dir, dataDir, Request{Stack: "st", Commit: commit, SecretSeed: seed})
}

// prepareRepo prepares req as the head of recipe demo from the repository at dir, under pol,
// with the secret key of dataDir (a new one when empty), on the fake engine.
func prepareRepo(t *testing.T, pol policy.Policy, dir, dataDir string, req Request) (*Prepared, *mask.Masker, error) {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	p, err := New(Options{Engine: fake.New(fake.Options{}), DataDir: dataDir, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	if req.Source, err = p.Open(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	req.Role, req.Dir, req.Recipe, req.SourceURL = v1alpha1.RoleHead, filepath.Join(dataDir, "head"), "demo", dir
	req.App = AppDeploy{Stack: req.Stack, Recipe: "demo", Commit: req.Commit, Chaos: true}
	m := mask.New()
	pr, err := p.Prepare(t.Context(), req, m)
	return pr, m, err
}

func TestPrepareGeneratesSecretsPerSeed(t *testing.T) {
	compose := testkit.Compose(testkit.Version{Image: testkit.ProbeV1, Version: "0.1.0+1"})
	dataDir := t.TempDir()
	a, ma, err := prepare(t, policy.Default(), compose, "run-a", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := prepare(t, policy.Default(), compose, "run-a", dataDir)
	c, _, _ := prepare(t, policy.Default(), compose, "run-b", dataDir)
	name := "st_db_password_v1"
	va, vb, vc := a.render.Secrets[name].Data, b.render.Secrets[name].Data, c.render.Secrets[name].Data
	if len(va) != 24 || string(va) != string(vb) || string(va) == string(vc) {
		t.Errorf("generated %q: length %d (want 24, the hint), same seed same value %t, other seed other value %t",
			name, len(va), string(va) == string(vb), string(va) != string(vc))
	}
	if got := ma.String("the value is " + string(va)); got == "the value is "+string(va) {
		t.Errorf("the masker did not learn the generated secret")
	}
	if len(a.render.ExternalSecrets) != 0 {
		t.Errorf("external secrets left: %v", a.render.ExternalSecrets)
	}
}

func TestPrepareRefusesWhatThePolicyDenies(t *testing.T) {
	compose := `version: "3.8"
services:
  app:
    image: swarmrun-probe:1
    volumes: ["/var/run/docker.sock:/var/run/docker.sock"]
`
	_, _, err := prepare(t, policy.Default(), compose, "run", "")
	if !errors.Is(err, policy.ErrDenied) {
		t.Fatalf("err = %v, want the policy's refusal", err)
	}
	if reason, final := Reason(err); reason != v1alpha1.ReasonPolicyDenied || !final {
		t.Errorf("Reason = %s, %t; want PolicyDenied, final", reason, final)
	}
}

func TestPrepareKeepsAllowedExternalSecretsExternal(t *testing.T) {
	compose := `version: "3.8"
services:
  app:
    image: swarmrun-probe:1
    secrets: [cert]
secrets:
  cert:
    external: true
    name: proxy_cert
`
	if _, _, err := prepare(t, policy.Default(), compose, "run", ""); !errors.Is(err, policy.ErrDenied) {
		t.Fatalf("without the policy's leave: err = %v, want a refusal", err)
	}
	pol, err := policy.Parse([]byte("externalSecrets: [proxy_cert]\n"))
	if err != nil {
		t.Fatal(err)
	}
	pr, _, err := prepare(t, pol, compose, "run", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.render.ExternalSecrets) != 1 || pr.render.ExternalSecrets[0] != "proxy_cert" {
		t.Errorf("external secrets %v, want proxy_cert left external (not generated over the operator's)", pr.render.ExternalSecrets)
	}
}

// TestPrepareNamesRequiredVariables: a ${VAR?message} the env leaves unset stops the
// deploy as a render error naming the file, line, key and variable.
func TestPrepareNamesRequiredVariables(t *testing.T) {
	compose := `version: "3.8"
services:
  app:
    image: swarmrun-probe:${PROBE_TAG?set PROBE_TAG to the probe's tag}
`
	_, _, err := prepare(t, policy.Default(), compose, "run", "")
	want := `compose.yml:4: invalid interpolation format for services.app.image: "required variable PROBE_TAG is missing a value: set PROBE_TAG to the probe's tag"`
	if !errors.Is(err, ErrRender) || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want a render error with %s", err, want)
	}
}

// TestPrepareKeepsOldVersionLabels: a recipe of 2021 labels each service with
// coop-cloud.${STACK_NAME}.<service>.version (image tag and digest) and has no recipe version
// label; those labels pass through. A chaos deploy adds no version label (abra keeps the
// compose file's, which has none), a version deploy the release's.
func TestPrepareKeepsOldVersionLabels(t *testing.T) {
	compose := `version: "3.8"
services:
  app:
    image: swarmrun-probe:1
    deploy:
      labels:
        - coop-cloud.${STACK_NAME}.app.version=2.0.3-eec92a23
`
	pr, _, err := prepare(t, policy.Default(), compose, "run", "")
	if err != nil {
		t.Fatal(err)
	}
	labels := pr.Services["st_app"].Labels
	if labels["coop-cloud.st.app.version"] != "2.0.3-eec92a23" || labels["coop-cloud.st.chaos"] != "true" || labels["coop-cloud.st.chaos-version"] == "" {
		t.Errorf("chaos deploy labels %v", labels)
	}
	if _, ok := labels[LabelVersion("st")]; ok {
		t.Errorf("a chaos deploy of a recipe without a version label got one: %v", labels)
	}
	if got := recipe.AppLabels(AppDeploy{Stack: "st", Recipe: "demo", Version: "v2.0.3"}); got[LabelVersion("st")] != "v2.0.3" {
		t.Errorf("version deploy labels %v", got)
	}
}
