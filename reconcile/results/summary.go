package results

import (
	"fmt"
	"strings"
	"time"
)

// Summary renders a Result as Markdown for people: the verdict and level first, then the
// base plan, deploys, pruned services and each tier's checks.
func Summary(r Result) string {
	var b strings.Builder
	verdict := map[string]string{"True": "passed", "False": "failed"}[r.Succeeded]
	if verdict == "" {
		verdict = "unfinished"
	}
	fmt.Fprintf(&b, "# TestRun %s: %s, level %d/%d\n\n", r.TestRun, verdict, r.Level, r.MaxLevel)
	fmt.Fprintf(&b, "- Recipe: `%s`\n", r.Recipe)
	if r.Head != nil {
		if r.Head.Ref == "" || strings.HasPrefix(r.Head.Commit, r.Head.Ref) {
			fmt.Fprintf(&b, "- Head: commit `%s`", short(r.Head.Commit))
		} else {
			fmt.Fprintf(&b, "- Head: `%s` at `%s`", r.Head.Ref, short(r.Head.Commit))
		}
		if r.Head.Version != "" {
			fmt.Fprintf(&b, " (version %s)", r.Head.Version)
		}
		b.WriteString("\n")
	}
	if r.Base != nil {
		fmt.Fprintf(&b, "- Base: %s", r.Base.Kind)
		switch {
		case r.Base.Version != "":
			fmt.Fprintf(&b, " %s", r.Base.Version)
		case r.Base.Ref != "":
			fmt.Fprintf(&b, " `%s`", r.Base.Ref)
		}
		if r.Base.Commit != "" {
			fmt.Fprintf(&b, " at `%s`", short(r.Base.Commit))
		}
		fmt.Fprintf(&b, " — %s\n", r.Base.Reason)
		if r.Base.Previous != "" {
			fmt.Fprintf(&b, "- Previous-version repair: %s\n", r.Base.Previous)
		}
		if w := r.Base.Warm; w != nil {
			for _, v := range w.Volumes {
				fmt.Fprintf(&b, "- Warm copy: `%s` → `%s` (%d bytes)\n", v.From, v.To, v.Bytes)
			}
		}
	}
	if r.Reason != "" {
		fmt.Fprintf(&b, "- Outcome: %s: %s\n", r.Reason, r.Message)
	}
	if r.Timings.Duration.Duration > 0 {
		fmt.Fprintf(&b, "- Duration: %s\n", r.Timings.Duration.Duration.Round(100*time.Millisecond))
	}
	if len(r.Deploys) > 0 {
		b.WriteString("\n## Deploys\n\n| role | commit | images | created | updated | unchanged | converged in |\n|---|---|---|---|---|---|---|\n")
		for _, d := range r.Deploys {
			var imgs []string
			for _, i := range d.Images {
				img := fmt.Sprintf("%s=%s", i.Service, i.Image)
				if i.Compose != "" {
					img += " (override of " + i.Compose + ")"
				}
				imgs = append(imgs, img)
			}
			conv := "-"
			if c, ok := r.Timings.Converge[d.Role]; ok {
				conv = c.Duration.Round(100 * time.Millisecond).String()
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %d | %d | %d | %s |\n", d.Role, short(d.Commit),
				strings.Join(imgs, "<br>"), len(d.Created), len(d.Updated), len(d.Unchanged), conv)
		}
	}
	b.WriteString("\n## Pruned\n\n")
	if len(r.Pruned) == 0 {
		b.WriteString("Nothing: the head kept every service of the base.\n")
	} else {
		for _, p := range r.Pruned {
			fmt.Fprintf(&b, "- `%s`\n", p)
		}
	}
	b.WriteString("\n## Tiers\n\n| tier | result | reason | checks |\n|---|---|---|---|\n")
	for _, name := range tierOrder(r.Tiers) {
		t := r.Tiers[name]
		var checks []string
		for _, c := range t.Checks {
			checks = append(checks, fmt.Sprintf("%s: %s", c.Name, c.Result))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, t.Result, cell(t.Reason), cell(strings.Join(checks, "; ")))
	}
	var artifacts []string
	for _, name := range tierOrder(r.Tiers) {
		for _, a := range r.Tiers[name].Artifacts {
			artifacts = append(artifacts, fmt.Sprintf("| %s | `%s` | %d | `%s` |\n", name, a.Path, a.Size, a.SHA256))
		}
	}
	if len(artifacts) > 0 {
		b.WriteString("\n## Artifacts\n\n| tier | file | bytes | sha256 |\n|---|---|---|---|\n" + strings.Join(artifacts, ""))
	}
	return b.String()
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// cell keeps a table cell on one line.
func cell(s string) string {
	return strings.NewReplacer("\n", " ", "|", "\\|").Replace(s)
}
