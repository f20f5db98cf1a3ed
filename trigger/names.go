package trigger

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/spec"
)

// RunName is the name of the TestRun a Repository starts for pull request n of recipe:
// <recipe>-pr<n>, with the recipe's part shortened to keep the name within the limit of
// object names.
func RunName(recipe string, n int64) string {
	suffix := "-pr" + strconv.FormatInt(n, 10)
	if room := spec.MaxNameLength - len(suffix); len(recipe) > room {
		recipe = strings.TrimRight(recipe[:max(room, 0)], "-")
	}
	return recipe + suffix
}

// runLabels are the labels of the TestRun started for comment on pull request n.
func runLabels(repository string, n, comment int64) map[string]string {
	return map[string]string{
		v1alpha1.LabelRepository:  repository,
		v1alpha1.LabelPullRequest: strconv.FormatInt(n, 10),
		v1alpha1.LabelComment:     strconv.FormatInt(comment, 10),
	}
}

// ownedBy reports whether tr was started by the Repository named repository.
func ownedBy(tr *v1alpha1.TestRun, repository string) bool {
	return tr.Labels[v1alpha1.LabelRepository] == repository
}

// commentOf is the comment that asked for tr, zero when its label says none.
func commentOf(tr *v1alpha1.TestRun) int64 {
	n, _ := strconv.ParseInt(tr.Labels[v1alpha1.LabelComment], 10, 64)
	return n
}

// verdict is the commit status state of a finished run, or "" while it runs.
func verdict(tr *v1alpha1.TestRun) string {
	c := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionSucceeded)
	switch {
	case c == nil:
		return ""
	case c.Status == v1alpha1.ConditionTrue:
		return v1alpha1.StateSuccess
	case c.Status == v1alpha1.ConditionFalse:
		return v1alpha1.StateFailure
	}
	return ""
}

// finalState reports whether a commit status state is a verdict, not pending.
func finalState(s string) bool {
	return s == v1alpha1.StateSuccess || s == v1alpha1.StateFailure || s == v1alpha1.StateError
}

// reported reports whether everything was posted for the record's run: its verdict and, when
// the run got to one, its summary comment.
func reported(rec *v1alpha1.PullRequestRecord) bool {
	return rec.TestRun == "" || (finalState(rec.Reported) && (rec.SummaryComment != 0 || rec.Reported == v1alpha1.StateError))
}

// Asks reports whether a comment asks for a run: a line of it, leading white space aside,
// is the phrase or starts with it and a space. Quoted lines ("> !testme") do not ask.
func Asks(body, phrase string) bool {
	if phrase == "" {
		return false
	}
	for line := range strings.Lines(body) {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, phrase); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return true
		}
	}
	return false
}

// statusContext is the commit status context of a Repository's runs: one per recipe, so
// that two Repositories mapping one forge repository to two recipes keep apart.
func statusContext(recipe string) string { return "swarmrun/" + recipe }

// targetURL fills the target URL template's {testrun}.
func targetURL(template, run string) string {
	if template == "" {
		return ""
	}
	return strings.ReplaceAll(template, "{testrun}", url.PathEscape(run))
}

// description keeps a commit status description short: the forges cut them.
func description(format string, args ...any) string {
	d := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	if r := []rune(d); len(r) > 140 {
		d = string(r[:139]) + "…"
	}
	return d
}
