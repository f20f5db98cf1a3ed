package objcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/swarmrun/swarmrun/api/client"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
)

func newGetCommand(g *cli.Globals, o Options) *cobra.Command {
	var (
		output string
		watch  bool
	)
	cmd := &cobra.Command{
		Use:   "get testruns|recipes|repositories [NAME]",
		Short: "List objects, or show one, as a table, YAML or JSON",
		Long: `List objects, or show one, as a table, YAML or JSON. In YAML and JSON the values of
secret-shaped env keys (PASSWORD, TOKEN, SECRET, KEY, ...) are shown as ***: output applied
back stores *** in their place.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := kindOf(args[0])
			if err != nil {
				return err
			}
			if output != "" && output != "wide" && output != "yaml" && output != "json" {
				return cli.Invalid(fmt.Errorf("-o %q: want wide, yaml or json", output))
			}
			c, err := connect(g)
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 2 {
				name = args[1]
			}
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			objs, rv, err := fetch(ctx, c, kind, name)
			if err != nil {
				return apiError(err)
			}
			if output == "yaml" || output == "json" {
				if err := printObjects(out, kind, name, objs, rv, output); err != nil {
					return err
				}
				if !watch {
					return nil
				}
			} else {
				if len(objs) == 0 && !watch {
					fmt.Fprintln(cmd.ErrOrStderr(), "No resources found.")
					return nil
				}
				printTable(out, kind, objs, output == "wide", o.Now(), true)
			}
			if !watch {
				return nil
			}
			return watchRows(ctx, c, out, kind, name, rv, output, o.Now)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: wide, yaml or json")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "after listing, print each change as it happens")
	return cmd
}

// fetch lists a kind, or gets one object by name, with the resourceVersion to watch from.
func fetch(ctx context.Context, c *client.Client, kind, name string) ([]v1alpha1.Object, string, error) {
	if name == "" {
		return c.List(ctx, kind)
	}
	obj, _ := store.NewObject(kind)
	if err := c.Get(ctx, name, obj); err != nil {
		return nil, "", err
	}
	return []v1alpha1.Object{obj}, obj.GetObjectMeta().ResourceVersion, nil
}

func printTable(w io.Writer, kind string, objs []v1alpha1.Object, wide bool, now time.Time, header bool) {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	if header {
		fmt.Fprintln(tw, strings.Join(columns(kind, wide), "\t"))
	}
	for _, o := range objs {
		cells := row(o, wide, now)
		for i, c := range cells {
			cells[i] = cli.Printable(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

// printObjects prints one object, or a list, as YAML or JSON, with secret env values masked.
func printObjects(w io.Writer, kind, name string, objs []v1alpha1.Object, rv, format string) error {
	shown := make([]v1alpha1.Object, len(objs))
	for i, o := range objs {
		shown[i] = masked(o)
	}
	objs = shown
	var v any
	if name != "" && len(objs) == 1 {
		v = objs[0]
	} else {
		v = struct {
			v1alpha1.TypeMeta `json:",inline"`
			Metadata          v1alpha1.ListMeta `json:"metadata"`
			Items             []v1alpha1.Object `json:"items"`
		}{v1alpha1.TypeMeta{APIVersion: v1alpha1.APIVersion, Kind: kind + "List"}, v1alpha1.ListMeta{ResourceVersion: rv}, objs}
	}
	var (
		b   []byte
		err error
	)
	if format == "yaml" {
		b, err = yaml.Marshal(v)
	} else {
		b, err = json.MarshalIndent(v, "", "  ")
		b = append(b, '\n')
	}
	if err != nil {
		return fmt.Errorf("encode %s: %w", format, err)
	}
	_, err = w.Write(b)
	return err
}

// watchRows prints a row (or a document) per change until ctx ends. After a re-list it
// carries on from the new list.
func watchRows(ctx context.Context, c *client.Client, w io.Writer, kind, name, rv, output string, now func() time.Time) error {
	for {
		ch, err := c.Watch(ctx, kind, rv)
		if err != nil {
			return apiError(err)
		}
		for ev := range ch {
			if ev.Type == store.Relist {
				break
			}
			m := ev.Object.GetObjectMeta()
			rv = m.ResourceVersion
			if name != "" && m.Name != name {
				continue
			}
			objs := []v1alpha1.Object{ev.Object}
			switch output {
			case "yaml", "json":
				if output == "yaml" {
					fmt.Fprintln(w, "---")
				}
				if err := printObjects(w, kind, m.Name, objs, rv, output); err != nil {
					return err
				}
			default:
				printTable(w, kind, objs, output == "wide", now(), false)
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		// The stream ended or asked for a re-list: start again from a fresh list.
		if _, rv, err = fetch(ctx, c, kind, ""); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return apiError(err)
		}
	}
}
