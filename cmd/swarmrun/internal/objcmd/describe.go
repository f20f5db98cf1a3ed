package objcmd

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
)

func newDescribeCommand(g *cli.Globals, o Options) *cobra.Command {
	return &cobra.Command{
		Use:   "describe testrun|recipe|repository NAME",
		Short: "Show an object: spec summary, status, conditions and events",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := kindOf(args[0])
			if err != nil {
				return err
			}
			c, err := connect(g)
			if err != nil {
				return err
			}
			obj, _ := store.NewObject(kind)
			if err := c.Get(cmd.Context(), args[1], obj); err != nil {
				return apiError(err)
			}
			events, err := c.Events(cmd.Context(), kind, args[1])
			if err != nil {
				return apiError(err)
			}
			describe(cmd.OutOrStdout(), obj, events, o.Now())
			return nil
		},
	}
}

// describe prints obj for a person. Env values are not printed: they may hold secrets. Every
// value is printed with control characters escaped: objects, conditions and events quote what
// recipes and clients wrote.
func describe(w io.Writer, obj v1alpha1.Object, events []v1alpha1.Event, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 8, 1, ' ', 0)
	p := func(indent int, key string, format string, args ...any) {
		fmt.Fprintf(tw, "%s%s:\t%s\n", strings.Repeat("  ", indent), cli.Printable(key), cli.Printable(fmt.Sprintf(format, args...)))
	}
	m := obj.GetObjectMeta()
	p(0, "Name", "%s", m.Name)
	p(0, "Kind", "%s", obj.GetTypeMeta().Kind)
	p(0, "Labels", "%s", orNone(labels(m.Labels)))
	p(0, "Created", "%s (%s ago)", m.CreationTimestamp.Format(time.RFC3339), cli.Age(now, m.CreationTimestamp))
	if m.DeletionTimestamp != nil {
		p(0, "Deleting", "since %s, waiting for %s", m.DeletionTimestamp.Format(time.RFC3339), strings.Join(m.Finalizers, ", "))
	}
	var conditions []v1alpha1.Condition
	switch o := obj.(type) {
	case *v1alpha1.TestRun:
		p(0, "Generation", "%d (observed %d)", o.Generation, o.Status.ObservedGeneration)
		fmt.Fprintln(tw, "Spec:")
		p(1, "Recipe", "%s", o.Spec.Recipe)
		p(1, "Head", "%s", orDefault(o.Spec.Head, "the target branch tip"))
		p(1, "Stages", "%s", stages(o.Spec.Stages))
		base := orDefault(o.Spec.UpgradeBase, "resolved (last green, then target branch tip)")
		if o.Spec.Warm() {
			base = "warm (a copy of the warm stack's data at the canonical)"
		}
		p(1, "Upgrade base", "%s", base)
		p(1, "Env", "%s", orNone(strings.Join(slices.Sorted(maps.Keys(o.Spec.Env)), ", ")))
		p(1, "Teardown", "%s", o.Spec.Teardown)
		if o.Spec.Timeout != nil {
			p(1, "Timeout", "%s", o.Spec.Timeout.Duration)
		}
		describeTestRunStatus(tw, p, &o.Status, now)
		conditions = o.Status.Conditions
	case *v1alpha1.Recipe:
		p(0, "Generation", "%d (observed %d)", o.Generation, o.Status.ObservedGeneration)
		fmt.Fprintln(tw, "Spec:")
		p(1, "Source", "%s", o.Spec.Source.URL)
		p(1, "Target branch", "%s", orDefault(o.Spec.Source.TargetBranch, "main, falling back to master"))
		p(1, "Env", "%s", orNone(strings.Join(slices.Sorted(maps.Keys(o.Spec.Env)), ", ")))
		p(1, "Overlays", "%d", len(o.Spec.Overlays))
		if o.Spec.Previous != nil {
			p(1, "Previous", "%s (%d overlays)", o.Spec.Previous.Version, len(o.Spec.Previous.Overlays))
		}
		p(1, "Warm", "%t", o.Spec.Warm)
		for _, st := range slices.Sorted(maps.Keys(o.Spec.ExpectedNotApplicable)) {
			p(1, "Not applicable", "%s: %s", st, o.Spec.ExpectedNotApplicable[st])
		}
		p(1, "Deploy timeout", "%s", o.Spec.DeployTimeout())
		ch := o.Spec.Checks
		p(1, "Checks", "install %d, upgrade %d+%d, backup %d, restore %d, custom %d",
			len(ch.Install), len(ch.Upgrade.Before), len(ch.Upgrade.After), len(ch.Backup), len(ch.Restore), len(ch.Custom))
		fmt.Fprintln(tw, "Status:")
		if c := o.Status.Canonical; c != nil {
			p(1, "Canonical", "%s (%s) %s, from %s, promoted %s", c.Version, cli.ShortCommit(c.Commit), c.Status, c.Run, c.PromotedAt.Format(time.RFC3339))
		} else {
			p(1, "Canonical", "<none>")
		}
		if ws := o.Status.WarmStack; ws != nil {
			p(1, "Warm stack", "%s at %s, ready %t", ws.Name, orDash(ws.Version), ws.Ready)
		}
		conditions = o.Status.Conditions
	case *v1alpha1.Repository:
		p(0, "Generation", "%d (observed %d)", o.Generation, o.Status.ObservedGeneration)
		describeRepository(tw, p, o, now)
		conditions = o.Status.Conditions
	}
	tw.Flush()
	describeConditions(w, conditions, now)
	describeEvents(w, events, now)
}

func describeTestRunStatus(tw io.Writer, p func(int, string, string, ...any), s *v1alpha1.TestRunStatus, now time.Time) {
	fmt.Fprintln(tw, "Status:")
	p(1, "Stack", "%s", orNone(s.Stack))
	if b := s.Base; b != nil {
		what := string(b.Kind)
		if b.Version != "" {
			what += " " + b.Version
		}
		if b.Commit != "" {
			what += " (" + cli.ShortCommit(b.Commit) + ")"
		}
		p(1, "Base", "%s: %s", what, b.Reason)
		if b.Previous != "" {
			p(2, "Previous", "%s", b.Previous)
		}
		if w := b.Warm; w != nil {
			var vols []string
			for _, v := range w.Volumes {
				vols = append(vols, v.From+" → "+v.To)
			}
			p(2, "Warm copy", "from %s: %s", w.Stack, orNone(strings.Join(vols, ", ")))
		}
	} else {
		p(1, "Base", "<not resolved>")
	}
	if h := s.Head; h != nil {
		p(1, "Head", "%s (%s) version %s", h.Ref, cli.ShortCommit(h.Commit), orDash(h.Version))
	}
	for _, d := range s.Deploys {
		state := "deploying"
		if d.ConvergedAt != nil {
			state = "converged " + cli.Age(now, d.ConvergedAt.Time) + " ago"
		}
		p(1, "Deploy "+d.Role, "%s, %s; created %d, updated %d, unchanged %d", cli.ShortCommit(d.Commit), state, len(d.Created), len(d.Updated), len(d.Unchanged))
	}
	if len(s.Pruned) > 0 {
		p(1, "Pruned", "%s", strings.Join(s.Pruned, ", "))
	}
	for _, t := range slices.Sorted(maps.Keys(s.Tiers)) {
		r := s.Tiers[t]
		line := string(r.Result)
		if r.Reason != "" {
			line += ": " + r.Reason
		}
		p(1, "Tier "+t, "%s (%d checks)", line, len(r.Checks))
		for _, a := range r.Artifacts {
			p(2, "Artifact "+a.Name, "%s, %d bytes, sha256 %s", a.Path, a.Size, a.SHA256)
		}
	}
	p(1, "Level", "%d", s.Level)
}

func describeRepository(tw io.Writer, p func(int, string, string, ...any), o *v1alpha1.Repository, now time.Time) {
	s := o.Spec
	fmt.Fprintln(tw, "Spec:")
	p(1, "Forge", "%s at %s", s.Forge, s.URL)
	p(1, "Repository", "%s/%s", s.Owner, s.Repo)
	p(1, "Recipe", "%s", s.Recipe)
	p(1, "Token file", "%s", s.TokenFile)
	p(1, "Webhook secret", "%s", orDefault(s.WebhookSecretFile, "<none: deliveries refused, polling only>"))
	var who []string
	if len(s.Trigger.Users) > 0 {
		who = append(who, "users "+strings.Join(s.Trigger.Users, ", "))
	}
	for _, t := range s.Trigger.Teams {
		if t.Team == "" {
			who = append(who, "members of "+t.Org)
		} else {
			who = append(who, "team "+t.Org+"/"+t.Team)
		}
	}
	p(1, "Trigger", "%q by %s", s.Trigger.Phrase, strings.Join(who, "; "))
	if d := s.Poll(); d > 0 {
		p(1, "Poll", "every %s", d)
	} else {
		p(1, "Poll", "never: webhook deliveries only")
	}
	t := s.Template
	timeout := "default"
	if t.Timeout != nil {
		timeout = t.Timeout.Duration.String()
	}
	p(1, "Template", "stages %s; upgrade base %s; teardown %s; timeout %s; env %s", stages(t.Stages), orDash(t.UpgradeBase),
		orDefault(string(t.Teardown), "default"), timeout, orNone(strings.Join(slices.Sorted(maps.Keys(t.Env)), ", ")))
	st := o.Status
	fmt.Fprintln(tw, "Status:")
	p(1, "Forge user", "%s", orNone(st.ForgeUser))
	p(1, "Pending comments", "%d", len(st.Pending))
	if st.LastPollTime != nil {
		p(1, "Last poll", "%s ago", cli.Age(now, st.LastPollTime.Time))
	}
	for _, pr := range st.PullRequests {
		line := "no run"
		if pr.TestRun != "" {
			line = fmt.Sprintf("%s at %s, asked by %s in comment %d; reported %s", pr.TestRun, cli.ShortCommit(pr.Head), orDash(pr.User), pr.Comment, orDefault(pr.Reported, "nothing yet"))
			if pr.SummaryComment != 0 {
				line += fmt.Sprintf(", summary comment %d", pr.SummaryComment)
			}
		}
		if pr.RefusalComment != 0 {
			line += fmt.Sprintf("; refusal comment %d", pr.RefusalComment)
		}
		p(1, fmt.Sprintf("Pull request #%d", pr.Number), "%s", line)
	}
}

func describeConditions(w io.Writer, cs []v1alpha1.Condition, now time.Time) {
	fmt.Fprintln(w, "Conditions:")
	if len(cs) == 0 {
		fmt.Fprintln(w, "  <none>")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  TYPE\tSTATUS\tREASON\tAGE\tMESSAGE")
	for _, c := range cs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", oneLine(c.Type), oneLine(string(c.Status)), oneLine(c.Reason), cli.Age(now, c.LastTransitionTime.Time), oneLine(c.Message))
	}
	tw.Flush()
}

func describeEvents(w io.Writer, events []v1alpha1.Event, now time.Time) {
	fmt.Fprintln(w, "Events:")
	if len(events) == 0 {
		fmt.Fprintln(w, "  <none>")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  TYPE\tREASON\tAGE\tCOUNT\tMESSAGE")
	for _, e := range events {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\n", oneLine(string(e.Type)), oneLine(e.Reason), lastSeen(now, e), e.Count, oneLine(e.Message))
	}
	tw.Flush()
}

func labels(l map[string]string) string {
	out := make([]string, 0, len(l))
	for _, k := range slices.Sorted(maps.Keys(l)) {
		out = append(out, k+"="+l[k])
	}
	return strings.Join(out, ",")
}

func orNone(s string) string { return orDefault(s, "<none>") }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
