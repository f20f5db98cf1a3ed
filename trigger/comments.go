package trigger

import (
	"fmt"
	"strings"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/forge"
	"github.com/swarmrun/swarmrun/internal/mask"
	"github.com/swarmrun/swarmrun/reconcile/results"
)

// Each comment swarmrun posts starts with a marker, an HTML comment the forge does not show,
// so that a retry after a crash finds the comment it posted (by the forge user, with the
// marker) and edits it instead of posting another.

// summaryMarker marks the summary comment of one TestRun (its UID: a replaced run of the same
// name gets its own).
func summaryMarker(tr *v1alpha1.TestRun) string {
	return fmt.Sprintf("<!-- swarmrun:summary testrun=%s uid=%s -->", tr.Name, tr.UID)
}

// refusalMarker marks the one refusal comment of a pull request.
const refusalMarker = "<!-- swarmrun:refusal -->"

// summaryBody is the summary comment of a finished run: who asked, the verdict and level, a
// link to the run when serve has a status page, then the run's summary as results renders
// it (base plan, deploys, pruned services, tiers).
func summaryBody(tr *v1alpha1.TestRun, rec *v1alpha1.PullRequestRecord, target string) string {
	r := results.Build(tr, mask.New())
	var b strings.Builder
	b.WriteString(summaryMarker(tr) + "\n")
	verdict := map[string]string{"True": "passed", "False": "failed"}[r.Succeeded]
	fmt.Fprintf(&b, "**swarmrun** tested `%s` as asked", short(rec.Head))
	if rec.User != "" {
		fmt.Fprintf(&b, " by @%s", rec.User)
	}
	fmt.Fprintf(&b, ": **%s**, level %d/%d", verdict, r.Level, r.MaxLevel)
	if target != "" {
		fmt.Fprintf(&b, " ([details](%s))", target)
	}
	b.WriteString(".\n\n")
	b.WriteString(results.Summary(r))
	return b.String()
}

// refusalBody is the one comment that tells an author they may not start a run.
func refusalBody(user, phrase string) string {
	return refusalMarker + "\n" + fmt.Sprintf("Thank you, @%s. Only the people this repository's swarmrun configuration names may start a test run with `%s`, so nothing was started; a maintainer can ask for one. (swarmrun says this once per pull request.)", user, phrase)
}

// mine returns the first comment among cs that the forge user posted with marker in it.
func mine(cs []forge.Comment, user, marker string) (forge.Comment, bool) {
	for _, c := range cs {
		if strings.EqualFold(c.User.Login, user) && strings.Contains(c.Body, marker) {
			return c, true
		}
	}
	return forge.Comment{}, false
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
