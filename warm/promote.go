package warm

import (
	"fmt"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/recipe"
)

// CanonicalStatus is the status a promoted canonical record carries: the run that produced
// it was green.
const CanonicalStatus = "green"

// StackName is the name of a recipe's warm stack.
func StackName(recipe string) string { return "warm-" + recipe }

// PromoteInput is everything Decide looks at. The caller reads the objects and lists the
// recipe's release tags; Decide itself reads nothing.
type PromoteInput struct {
	// Run is the finished TestRun.
	Run *v1alpha1.TestRun
	// Recipe is the run's Recipe, nil when it does not exist.
	Recipe *v1alpha1.Recipe
	// Published are the recipe's release tags with their commits, in any order.
	Published []recipe.Version
	// Now is the promotion time.
	Now time.Time
}

// Decision is the outcome of Decide.
type Decision struct {
	Promote bool
	// Reason says why, in words an operator reads in describe; it is set for promotions too.
	Reason string
	// Canonical is the record to write when Promote is set.
	Canonical v1alpha1.Canonical
}

// EventReason is the PascalCase reason of the events that report the decision.
func (d Decision) EventReason() string {
	if d.Promote {
		return v1alpha1.ReasonPromoted
	}
	return v1alpha1.ReasonNotPromoted
}

func refuse(format string, args ...any) Decision {
	return Decision{Reason: fmt.Sprintf(format, args...)}
}

// Decide says whether a run promotes its head to the recipe's warm canonical. It promotes
// only when all of these hold, and otherwise names the first that does not:
//
//   - the recipe exists and is enrolled (spec.warm);
//   - the run succeeded;
//   - the run was cold: its base was not the warm stack;
//   - the head was asked for as a release tag (not a branch or a commit), and that tag is
//     published at the commit the run tested;
//   - the tag is the newest published version;
//   - the recipe's canonical record is not already this version at this commit, nor newer.
func Decide(in PromoteInput) Decision {
	run := in.Run
	if run == nil {
		return refuse("no run")
	}
	rc := in.Recipe
	if rc == nil {
		return refuse("recipe %q does not exist", run.Spec.Recipe)
	}
	if rc.Name != run.Spec.Recipe {
		return refuse("run %s tests recipe %q, not %q", run.Name, run.Spec.Recipe, rc.Name)
	}
	if !rc.Spec.Warm {
		return refuse("recipe %s is not enrolled as warm (spec.warm is false)", rc.Name)
	}
	if d, ok := refuseUnlessSucceeded(run); !ok {
		return d
	}
	if warmBased(run) {
		return refuse("run %s was not cold: its base was the warm stack %s", run.Name, StackName(rc.Name))
	}
	h := run.Status.Head
	if h == nil || h.Commit == "" {
		return refuse("run %s has no resolved head", run.Name)
	}
	tag := strings.TrimPrefix(h.Ref, "refs/tags/")
	if _, err := recipe.ParseVersion(tag); err != nil || h.Version != tag {
		return refuse("head %s is a branch or commit, not a release tag", headName(h))
	}
	pub, ok := findVersion(in.Published, tag)
	if !ok {
		return refuse("head %s is not a published version of %s", tag, rc.Name)
	}
	if pub.Commit != h.Commit {
		return refuse("tag %s now points at %s, but the run tested %s", tag, short(pub.Commit), short(h.Commit))
	}
	if newest := newestVersion(in.Published); newest.Tag != tag {
		return refuse("head %s is older than the newest published version %s", tag, newest.Tag)
	}
	if c := rc.Status.Canonical; c != nil {
		switch cmp := recipe.CompareVersions(c.Version, tag); {
		case cmp > 0:
			return refuse("canonical %s of %s is newer than %s", c.Version, rc.Name, tag)
		case cmp == 0 && c.Commit == h.Commit:
			return refuse("%s at %s is already the canonical of %s (run %s)", tag, short(h.Commit), rc.Name, c.Run)
		}
	}
	return Decision{
		Promote: true,
		Reason:  fmt.Sprintf("%s at %s is green, cold and the newest published version of %s", tag, short(h.Commit), rc.Name),
		Canonical: v1alpha1.Canonical{
			Version:    tag,
			Commit:     h.Commit,
			Status:     CanonicalStatus,
			Run:        run.Name,
			PromotedAt: v1alpha1.Time{Time: in.Now.UTC().Truncate(time.Second)},
		},
	}
}

func refuseUnlessSucceeded(run *v1alpha1.TestRun) (Decision, bool) {
	c := apimeta.FindStatusCondition(run.Status.Conditions, v1alpha1.ConditionSucceeded)
	switch {
	case c == nil || c.Status == v1alpha1.ConditionUnknown:
		return refuse("run %s has not finished", run.Name), false
	case c.Status == v1alpha1.ConditionFalse:
		return refuse("run %s is red (%s): only a green run promotes", run.Name, c.Reason), false
	}
	return Decision{}, true
}

// warmBased reports whether a run started from the warm stack instead of a fresh deploy: its
// base is a copy of the warm stack's data (spec.base.from: warm), or it ran in the warm stack.
func warmBased(run *v1alpha1.TestRun) bool {
	if run.Status.Base != nil && run.Status.Base.Kind == v1alpha1.BaseWarm {
		return true
	}
	if run.Status.Stack != "" && run.Status.Stack == StackName(run.Spec.Recipe) {
		return true
	}
	for _, d := range run.Status.Deploys {
		if d.Role == v1alpha1.RoleWarm {
			return true
		}
	}
	return false
}

// headName names a run's head: its ref, or its short commit when the ref is the commit itself
// (a pull request's head).
func headName(h *v1alpha1.HeadStatus) string {
	if h.Ref != "" && !strings.HasPrefix(h.Commit, h.Ref) {
		return h.Ref
	}
	return short(h.Commit)
}

func findVersion(vs []recipe.Version, tag string) (recipe.Version, bool) {
	for _, v := range vs {
		if v.Tag == tag {
			return v, true
		}
	}
	return recipe.Version{}, false
}

// newestVersion is the highest release tag; the caller has checked there is one.
func newestVersion(vs []recipe.Version) recipe.Version {
	var best recipe.Version
	for i, v := range vs {
		if i == 0 || recipe.CompareVersions(v.Tag, best.Tag) > 0 {
			best = v
		}
	}
	return best
}

func short(commit string) string {
	if len(commit) > 8 {
		return commit[:8]
	}
	return commit
}
