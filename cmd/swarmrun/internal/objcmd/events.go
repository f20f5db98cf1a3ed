package objcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarmrun/swarmrun/api/client"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
)

func newEventsCommand(g *cli.Globals, o Options) *cobra.Command {
	var (
		forObject string
		watch     bool
	)
	cmd := &cobra.Command{
		Use:   "events [--for testrun/NAME|recipe/NAME|repository/NAME] [-w]",
		Short: "List events, newest last, and with -w follow them",
		Long: `List the events of every object, or of one with --for, oldest first and newest last, as
kubectl get events does. A repeated event is one row, with its count: "5m (x3 over 20m)" was
last seen 5 minutes ago, 3 times in 20 minutes. With -w, after the list, print each event as
it is recorded or repeated, until interrupted. Messages are printed on one line with control
characters escaped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kind, name, err := parseFor(forObject)
			if err != nil {
				return err
			}
			c, err := connect(g)
			if err != nil {
				return err
			}
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			if !watch {
				events, err := listEvents(ctx, c, kind, name)
				if err != nil {
					return apiError(err)
				}
				if len(events) == 0 {
					fmt.Fprintln(cmd.ErrOrStderr(), "No events found.")
					return nil
				}
				printEvents(out, events, o.Now(), true)
				return nil
			}
			return watchEvents(ctx, c, out, kind, name, o.Now)
		},
	}
	cmd.Flags().StringVar(&forObject, "for", "", "only the events of this object: testrun/NAME, recipe/NAME or repository/NAME")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "after listing, print each event as it is recorded")
	return cmd
}

// parseFor reads --for: "" for every object, else KIND/NAME with any spelling of the kind get
// takes (testrun, tr, testruns.swarmrun.dev, ...).
func parseFor(s string) (string, string, error) {
	if s == "" {
		return "", "", nil
	}
	res, name, ok := strings.Cut(s, "/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", "", cli.Invalid(fmt.Errorf("--for %q: want testrun/NAME, recipe/NAME or repository/NAME", s))
	}
	kind, err := kindOf(res)
	return kind, name, err
}

func listEvents(ctx context.Context, c *client.Client, kind, name string) ([]v1alpha1.Event, error) {
	if kind == "" {
		return c.AllEvents(ctx)
	}
	return c.Events(ctx, kind, name)
}

// lastSeen is kubectl's LAST SEEN of an event: its age, and for a repeat how often over how
// long.
func lastSeen(now time.Time, e v1alpha1.Event) string {
	age := cli.Age(now, e.LastTimestamp)
	if e.Count > 1 {
		age += fmt.Sprintf(" (x%d over %s)", e.Count, cli.Age(now, e.FirstTimestamp))
	}
	return age
}

func printEvents(w io.Writer, events []v1alpha1.Event, now time.Time, header bool) {
	(&eventTable{}).print(w, events, now, header)
}

// eventTable prints events in columns that keep their widths from one print to the next, so
// that the rows a watch prints one by one line up under the list's; a wider cell widens its
// column from then on.
type eventTable struct{ widths []int }

func (t *eventTable) print(w io.Writer, events []v1alpha1.Event, now time.Time, header bool) {
	rows := [][]string{{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}}
	for _, e := range events {
		rows = append(rows, []string{lastSeen(now, e), cli.Printable(string(e.Type)), cli.Printable(e.Reason),
			cli.Printable(strings.ToLower(e.Object.Kind) + "/" + e.Object.Name), cli.Printable(strings.Join(strings.Fields(e.Message), " "))})
	}
	if t.widths == nil {
		t.widths = make([]int, len(rows[0])-1)
	}
	for _, r := range rows {
		for i := range t.widths {
			t.widths[i] = max(t.widths[i], len(r[i]))
		}
	}
	if !header {
		rows = rows[1:]
	}
	var b strings.Builder
	for _, r := range rows {
		for i, width := range t.widths {
			fmt.Fprintf(&b, "%-*s", width+3, r[i])
		}
		b.WriteString(r[len(r)-1])
		b.WriteByte('\n')
	}
	_, _ = io.WriteString(w, b.String())
}

// eventKey names an event as the store merges repeats: the object, the type, the reason and
// the message.
func eventKey(e v1alpha1.Event) string {
	return strings.Join([]string{e.Object.Kind, e.Object.Name, string(e.Type), e.Reason, e.Message}, "\x00")
}

// watchEvents lists, then prints each event recorded after, until ctx ends. The watch starts
// before the list, so that nothing recorded in between is lost, and what the list already
// showed (at that count) is not printed twice. After a re-list it carries on the same way.
func watchEvents(ctx context.Context, c *client.Client, w io.Writer, kind, name string, now func() time.Time) error {
	seen := map[string]int32{}
	table := &eventTable{}
	header := true
	for {
		ch, err := c.WatchEvents(ctx, kind, name)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return apiError(err)
		}
		events, err := listEvents(ctx, c, kind, name)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return apiError(err)
		}
		table.print(w, unseen(seen, events), now(), header)
		header = false
		for ev := range ch {
			if ev.Type == store.Relist {
				break
			}
			table.print(w, unseen(seen, []v1alpha1.Event{ev.Event}), now(), false)
		}
		if ctx.Err() != nil {
			return nil
		}
		if kind != "" {
			// The object may be gone, events and all: then there is nothing more to follow.
			if _, err := c.Events(ctx, kind, name); errors.Is(err, store.ErrNotFound) {
				return nil
			}
		}
	}
}

// unseen keeps the events not printed yet at their count, and marks them printed.
func unseen(seen map[string]int32, events []v1alpha1.Event) []v1alpha1.Event {
	var out []v1alpha1.Event
	for _, e := range events {
		k := eventKey(e)
		if seen[k] >= e.Count {
			continue
		}
		seen[k] = e.Count
		out = append(out, e)
	}
	return out
}
