package reconcile

import (
	"slices"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

const baseTests = `apiVersion: swarmrun.dev/v1alpha1
kind: RecipeTests
checks:
  install:
    - name: home-base
      http: {service: app, port: 8080, path: /healthz}
`

const headTests = `apiVersion: swarmrun.dev/v1alpha1
kind: RecipeTests
checks:
  install:
    - name: home-head
      http: {service: app, port: 8080, path: /healthz}
  upgrade:
    before:
      - name: write
        http: {service: app, port: 8080, path: /data/k, method: PUT, body: kept, expectStatus: 204}
    after:
      - name: read
        http: {service: app, port: 8080, path: /data/k, contains: kept}
      - name: head-only
        http: {service: app, port: 8080, path: /version, contains: "1"}
  custom:
    - name: smoke
      exec: {service: app, command: [/probe, -version]}
`

// shippedRepo is the standard recipe whose base and head ship their own checks.
func shippedRepo(t *testing.T, head string) string {
	t.Helper()
	dir, _ := recipeRepo(t, "main",
		repoVersion{Image: probe1, Version: "0.1.0+1", Sidekiq: true, Tag: "0.1.0+1", Files: map[string]string{v1alpha1.RecipeTestsFile: baseTests}},
		repoVersion{Image: probe2, Version: "0.2.0+2", Tag: "0.2.0+2", Files: map[string]string{v1alpha1.RecipeTestsFile: head}},
	)
	return dir
}

func result(t *testing.T, tier v1alpha1.TierResult, name string) v1alpha1.CheckResult {
	t.Helper()
	for _, c := range tier.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Errorf("no check %q in %q", name, checkNames(tier.Checks))
	return v1alpha1.CheckResult{}
}

func runShipped(t *testing.T, e *fakeEnv, name, head string, prep func(*v1alpha1.Recipe)) *v1alpha1.TestRun {
	t.Helper()
	rc := newRecipe(name, shippedRepo(t, head))
	if prep != nil {
		prep(rc)
	}
	return e.runUpgrade(rc, nil)
}

// Acceptance 4: a check the head ships that fails (it holds only for the base's version)
// turns the run red at the upgrade tier, after the base's own install checks passed on the
// base; every result says where its check came from.
func TestShippedCheckFailsAtTheHead(t *testing.T) {
	e := newFakeEnv(t)
	e.checks.fail["after: head-only"] = true
	got := runShipped(t, e, "ship", headTests, func(rc *v1alpha1.Recipe) {
		rc.Spec.Checks.Install = []v1alpha1.Check{{Name: "operator", HTTP: &v1alpha1.HTTPCheck{Service: "app", Port: 8080}}}
	})
	c := condition(got, v1alpha1.ConditionSucceeded)
	if c.Status != v1alpha1.ConditionFalse || c.Reason != v1alpha1.ReasonCheckFailed || !strings.Contains(c.Message, "after: head-only") {
		t.Fatalf("Succeeded = %s %s: %s", c.Status, c.Reason, c.Message)
	}
	install, upgrade := got.Status.Tiers["install"], got.Status.Tiers["upgrade"]
	if install.Result != v1alpha1.ResultPassed || upgrade.Result != v1alpha1.ResultFailed || got.Status.Level != 1 {
		t.Errorf("install %s, upgrade %s, level %d; want passed, failed, 1", install.Result, upgrade.Result, got.Status.Level)
	}
	for name, want := range map[string]string{"operator": v1alpha1.CheckSourceRecipe, "home-base": v1alpha1.CheckSourceBase} {
		if c := result(t, install, name); c.Source != want || c.Result != v1alpha1.ResultPassed {
			t.Errorf("install check %s: %s from %q, want passed from %q", name, c.Result, c.Source, want)
		}
	}
	if slices.Contains(checkNames(install.Checks), "home-head") {
		t.Errorf("the head's install checks ran on the base: %q", checkNames(install.Checks))
	}
	for name, want := range map[string]v1alpha1.TierResultValue{"before: write": v1alpha1.ResultPassed, "after: read": v1alpha1.ResultPassed,
		"after: head-only": v1alpha1.ResultFailed} {
		if c := result(t, upgrade, name); c.Source != v1alpha1.CheckSourceHead || c.Result != want {
			t.Errorf("upgrade check %s: %s from %q, want %s from the head's file", name, c.Result, c.Source, want)
		}
	}
	if i, j := slices.Index(e.checks.ran, "before: write"), slices.Index(e.checks.ran, "after: read"); i < 0 || j < i {
		t.Errorf("checks ran in the order %q: the head's before check must run on the base, before its after check", e.checks.ran)
	}
}

// A custom check the head ships fails the custom tier alone.
func TestShippedCustomCheckFails(t *testing.T) {
	e := newFakeEnv(t)
	e.checks.fail["smoke"] = true
	got := runShipped(t, e, "shipc", headTests, nil)
	custom := got.Status.Tiers["custom"]
	if custom.Result != v1alpha1.ResultFailed || result(t, custom, "smoke").Source != v1alpha1.CheckSourceHead {
		t.Errorf("custom = %+v", custom)
	}
	if c := condition(got, v1alpha1.ConditionSucceeded); c.Reason != v1alpha1.ReasonCheckFailed || got.Status.Level != 3 {
		t.Errorf("Succeeded %s, level %d; want CheckFailed at level 3 (backup and restore not applicable)", c.Reason, got.Status.Level)
	}
}

// A head whose checks file is broken is a broken head: the run fails RenderFailed at the
// upgrade tier with the file, line and field, before the head is applied, after the base
// installed.
func TestShippedChecksFileBroken(t *testing.T) {
	e := newFakeEnv(t)
	broken := "apiVersion: swarmrun.dev/v1alpha1\nkind: RecipeTests\nchecks:\n  custom:\n    - name: smoke\n      exec: {service: app, comand: [x]}\n"
	got := runShipped(t, e, "shipb", broken, nil)
	c := condition(got, v1alpha1.ConditionSucceeded)
	if c.Reason != v1alpha1.ReasonRenderFailed || !strings.Contains(c.Message, `tests/swarmrun.yaml:6: checks.custom[0].exec: unknown field "comand"`) {
		t.Fatalf("Succeeded = %s %s: %s", c.Status, c.Reason, c.Message)
	}
	if r := got.Status.Tiers["upgrade"].Result; r != v1alpha1.ResultFailed || got.Status.Tiers["install"].Result != v1alpha1.ResultPassed {
		t.Errorf("upgrade %s, install %s", r, got.Status.Tiers["install"].Result)
	}
	if deployRecord(got, roleHead) != nil {
		t.Errorf("the head was applied")
	}
}
