package objcmd

import (
	"strconv"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
)

// columns returns a kind's table header, plain or wide.
func columns(kind string, wide bool) []string {
	switch kind {
	case v1alpha1.KindRecipe:
		c := []string{"NAME", "URL", "WARM", "CANONICAL", "AGE"}
		if wide {
			c = append(c, "BRANCH", "WARM-STACK", "READY")
		}
		return c
	case v1alpha1.KindRepository:
		c := []string{"NAME", "FORGE", "REPOSITORY", "RECIPE", "POLL", "READY", "AGE"}
		if wide {
			c = append(c, "URL", "PHRASE", "PULL-REQUESTS", "PENDING")
		}
		return c
	}
	c := []string{"NAME", "RECIPE", "HEAD", "BASE", "LEVEL", "SUCCEEDED", "AGE", "MESSAGE"}
	if wide {
		c = append(c, "REASON", "STACK", "STAGES")
	}
	return c
}

// row returns an object's table row, matching columns.
func row(obj v1alpha1.Object, wide bool, now time.Time) []string {
	age := cli.Age(now, obj.GetObjectMeta().CreationTimestamp)
	switch o := obj.(type) {
	case *v1alpha1.Recipe:
		canonical := "-"
		if c := o.Status.Canonical; c != nil {
			canonical = c.Version
		}
		r := []string{o.Name, o.Spec.Source.URL, strconv.FormatBool(o.Spec.Warm), canonical, age}
		if wide {
			ws, ready := "-", "-"
			if w := o.Status.WarmStack; w != nil {
				ws, ready = w.Name, strconv.FormatBool(w.Ready)
			}
			r = append(r, orDash(o.Spec.Source.TargetBranch), ws, ready)
		}
		return r
	case *v1alpha1.TestRun:
		succeeded, reason, message := "Unknown", "-", ""
		if c := apimeta.FindStatusCondition(o.Status.Conditions, v1alpha1.ConditionSucceeded); c != nil {
			succeeded, reason, message = string(c.Status), c.Reason, c.Message
		}
		if o.DeletionTimestamp != nil {
			message = "deleting: " + message
		}
		r := []string{o.Name, o.Spec.Recipe, head(o), base(o), strconv.Itoa(o.Status.Level), succeeded, age, oneLine(message)}
		if wide {
			r = append(r, reason, orDash(o.Status.Stack), stages(o.Spec.Stages))
		}
		return r
	case *v1alpha1.Repository:
		poll, ready := "webhook", "Unknown"
		if p := o.Spec.Poll(); p > 0 {
			poll = p.String()
		}
		if c := apimeta.FindStatusCondition(o.Status.Conditions, v1alpha1.ConditionReady); c != nil {
			ready = string(c.Status)
		}
		r := []string{o.Name, string(o.Spec.Forge), o.Spec.Owner + "/" + o.Spec.Repo, o.Spec.Recipe, poll, ready, age}
		if wide {
			r = append(r, o.Spec.URL, o.Spec.Trigger.Phrase, strconv.Itoa(len(o.Status.PullRequests)), strconv.Itoa(len(o.Status.Pending)))
		}
		return r
	}
	return nil
}

func head(o *v1alpha1.TestRun) string {
	if h := o.Status.Head; h != nil && h.Commit != "" {
		return cli.ShortCommit(h.Commit)
	}
	return orDash(o.Spec.Head)
}

func base(o *v1alpha1.TestRun) string {
	b := o.Status.Base
	switch {
	case b == nil:
		return orDash(o.Spec.UpgradeBase)
	case b.Kind == v1alpha1.BaseNone:
		return "none"
	case b.Version != "":
		return b.Version
	}
	return cli.ShortCommit(b.Commit)
}

func stages(s []v1alpha1.Stage) string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = string(x)
	}
	return orDash(strings.Join(out, ","))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a table cell on one line, short, and unable to drive the terminal.
func oneLine(s string) string {
	s = cli.Printable(strings.Join(strings.Fields(s), " "))
	if r := []rune(s); len(r) > 60 {
		return string(r[:59]) + "…"
	}
	return s
}
