package statuspage

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// TargetBranchRun is the run a recipe's badge reports: the newest finished TestRun of rc
// whose head is the recipe's target branch. A run's head is the target branch when its spec
// names none (it tests the target branch tip) or names the target branch itself:
// spec.source.targetBranch when the Recipe sets one, else main or master (the branches a run
// resolves the target to, main first). Pull request heads, tags and commits do not count.
// Newest is by completion, then creation, then name. It returns nil when no such run is
// finished.
func TargetBranchRun(rc *v1alpha1.Recipe, runs []*v1alpha1.TestRun) *v1alpha1.TestRun {
	var last *v1alpha1.TestRun
	for _, tr := range runs {
		if tr.Spec.Recipe != rc.Name || !finished(tr) || !onTargetBranch(rc, tr) {
			continue
		}
		if last == nil || newer(tr, last) {
			last = tr
		}
	}
	return last
}

func onTargetBranch(rc *v1alpha1.Recipe, tr *v1alpha1.TestRun) bool {
	switch head := tr.Spec.Head; {
	case head == "":
		return true
	case rc.Spec.Source.TargetBranch != "":
		return head == rc.Spec.Source.TargetBranch
	default:
		return head == "main" || head == "master"
	}
}

// newer reports whether a finished after b (then was created after it, then sorts after it).
func newer(a, b *v1alpha1.TestRun) bool {
	if c := completed(a).Compare(completed(b)); c != 0 {
		return c > 0
	}
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp); c != 0 {
		return c > 0
	}
	return a.Name > b.Name
}

func finished(tr *v1alpha1.TestRun) bool {
	c := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionSucceeded)
	return c != nil && c.Status != v1alpha1.ConditionUnknown
}

func completed(tr *v1alpha1.TestRun) time.Time {
	if tr.Status.CompletedAt != nil {
		return tr.Status.CompletedAt.Time
	}
	return time.Time{}
}

// Badge colours, shields.io's named ones, from red at level 0 to bright green at the top.
var levelColours = [v1alpha1.MaxLevel + 1]string{"#e05d44", "#fe7d37", "#dfb317", "#a4a61d", "#97ca00", "#4c1"}

const (
	greyColour  = "#9f9f9f"
	badgeLabel  = "swarmrun"
	fontFamily  = "Verdana,Geneva,DejaVu Sans,sans-serif"
	badgeHeight = 20
)

// badgeMessage is what a recipe's badge says, and in which colour.
func badgeMessage(tr *v1alpha1.TestRun) (string, string) {
	if tr == nil {
		return "no runs", greyColour
	}
	level := min(max(tr.Status.Level, 0), v1alpha1.MaxLevel)
	return fmt.Sprintf("level %d/%d", level, v1alpha1.MaxLevel), levelColours[level]
}

// textWidth approximates the width of s in 11px Verdana: shields measures the font; this is
// close enough for the short ASCII texts a badge carries.
func textWidth(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case strings.ContainsRune("ijl.:,'!|/ ", r):
			w += 4
		case strings.ContainsRune("mwMW", r):
			w += 10
		case r >= 'A' && r <= 'Z':
			w += 8
		default:
			w += 7
		}
	}
	return w
}

// badgeSVG renders a flat shields-style badge: label on grey, message on colour.
func badgeSVG(label, message, colour string) []byte {
	lw, mw := textWidth(label)+10, textWidth(message)+10
	esc := func(s string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s)) // writes to memory: never fails
		return b.String()
	}
	title := esc(label + ": " + message)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="%s">`, lw+mw, badgeHeight, title)
	fmt.Fprintf(&b, `<title>%s</title>`, title)
	b.WriteString(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&b, `<clipPath id="r"><rect width="%d" height="%d" rx="3" fill="#fff"/></clipPath>`, lw+mw, badgeHeight)
	fmt.Fprintf(&b, `<g clip-path="url(#r)"><rect width="%d" height="%d" fill="#555"/><rect x="%d" width="%d" height="%d" fill="%s"/><rect width="%d" height="%d" fill="url(#s)"/></g>`,
		lw, badgeHeight, lw, mw, badgeHeight, esc(colour), lw+mw, badgeHeight)
	fmt.Fprintf(&b, `<g fill="#fff" text-anchor="middle" font-family="%s" font-size="11">`, fontFamily)
	fmt.Fprintf(&b, `<text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text>`, lw/2, esc(label), lw/2, esc(label))
	fmt.Fprintf(&b, `<text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text>`, lw+mw/2, esc(message), lw+mw/2, esc(message))
	b.WriteString(`</g></svg>`)
	return b.Bytes()
}
