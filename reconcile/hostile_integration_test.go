//go:build integration

package reconcile

import (
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/recipe/recipetest"
)

// The deploy policy's cases of the hostile corpus (the Docker socket and host binds, added
// capabilities, the host network, other stacks' secrets and networks) on the real swarm: each
// run ends PolicyDenied naming the rule, and nothing of its stack ever exists.
func TestSwarmHostileHeadsDenied(t *testing.T) {
	t.Parallel()
	for _, c := range recipetest.Corpus(t, "../testdata/hostile") {
		if c.Stage != recipetest.StagePolicy {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			e := newSwarmEnv(t)
			url, commit := c.Commit(t)
			rc := newRecipe("hostile", url)
			tr := newTestRun(runName(t, "hostile"), rc.Name, commit)
			tr.Spec.Stages = []v1alpha1.Stage{v1alpha1.StageInstall}
			got := e.run(rc, tr)[0]
			cond := condition(got, v1alpha1.ConditionSucceeded)
			if cond.Status != v1alpha1.ConditionFalse || cond.Reason != v1alpha1.ReasonPolicyDenied || !strings.Contains(cond.Message, "(rule "+c.Rule+")") {
				t.Fatalf("Succeeded = %s %s: %s; want False PolicyDenied naming rule %s", cond.Status, cond.Reason, cond.Message, c.Rule)
			}
			if state := e.observe(StackName(got)); state.Exists() {
				t.Errorf("a denied head left objects on the swarm: %+v", state)
			}
		})
	}
}
