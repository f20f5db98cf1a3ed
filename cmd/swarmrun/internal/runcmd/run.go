package runcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/app"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/objcmd"
	"github.com/swarmrun/swarmrun/internal/mask"
	"github.com/swarmrun/swarmrun/reconcile/results"
	"github.com/swarmrun/swarmrun/spec"
)

// Command returns `swarmrun run`.
func Command(g *cli.Globals) *cobra.Command {
	var (
		files     []string
		output    string
		ephemeral bool
		flags     app.Flags
	)
	cmd := &cobra.Command{
		Use:   "run -f FILE|DIR",
		Short: "Run one TestRun to its verdict with an embedded store and controller",
		Long: `Read a Recipe and a TestRun (and any other Recipes) from files, store them, run the TestRun
with a controller inside this command, print its progress (conditions, events, per-service
convergence, checks) and exit with its verdict: 0 when Succeeded, 1 when Failed, 2 on bad input
or engine errors.

The store is the one under --data-dir (swarmrun.db), so that 'swarmrun get' and 'describe' see
the run afterwards; it is locked while 'swarmrun serve' runs, then use --ephemeral, which keeps
the store in a temporary file. A TestRun that already finished is deleted (its stack torn down)
and run again; one that is unfinished, from an interrupted run, is resumed.
Results are written under <data-dir>/runs/<testrun>/.

Warm recipes: a green, cold run of a recipe with warm: true whose head is its newest release
tag is promoted, as under serve: the recipe's canonical record is written in the store (the
TestRun's Promoted condition and its events say so, or why not). run does not deploy or keep
the warm stack warm-<recipe>: 'swarmrun serve' over the same --data-dir converges it to the
canonical when it starts. With --ephemeral the record goes with the temporary store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "json" {
				return cli.Invalid(fmt.Errorf("-o %q: want json", output))
			}
			docs, err := read(files)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			log := logr.Discard()
			if g.Verbosity > 0 {
				log = g.Logger()
			}
			ctx = logr.NewContext(ctx, log)
			progress := cmd.OutOrStdout()
			if output == "json" {
				progress = cmd.ErrOrStderr()
			}
			tr, err := runOnce(ctx, g, &flags, docs, ephemeral, progress)
			if err != nil {
				return err
			}
			if output == "json" {
				b, err := json.MarshalIndent(printable(tr), "", "  ")
				if err != nil {
					return cli.Invalid(err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			}
			c := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionSucceeded)
			if c == nil || c.Status != v1alpha1.ConditionTrue {
				return cli.Failed(fmt.Errorf("testrun %s failed: %s", tr.Name, verdict(tr)))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&files, "filename", "f", nil, "a YAML file or a directory of them with a Recipe and a TestRun (repeatable)")
	f.StringVarP(&output, "output", "o", "", "print the final TestRun: json")
	f.BoolVar(&ephemeral, "ephemeral", false, "keep the store in a temporary file instead of <data-dir>/swarmrun.db")
	flags.Bind(f)
	return cmd
}

// read reads and validates every document; bad input names the file, line and field.
func read(files []string) ([]spec.Document, error) {
	if len(files) == 0 {
		return nil, cli.Invalid(errors.New("run needs -f FILE or DIR"))
	}
	docs, err := spec.ReadPaths(files)
	if err != nil {
		return nil, cli.Invalid(err)
	}
	var runs int
	for _, d := range docs {
		if _, ok := d.Object.(*v1alpha1.TestRun); ok {
			runs++
		}
	}
	if runs != 1 {
		return nil, cli.Invalid(fmt.Errorf("run needs exactly one TestRun, found %d", runs))
	}
	return docs, nil
}

// runOnce stores the documents, runs the controller until the TestRun has its verdict and its
// teardown is done, and returns the final TestRun.
func runOnce(ctx context.Context, g *cli.Globals, flags *app.Flags, docs []spec.Document, ephemeral bool, out io.Writer) (*v1alpha1.TestRun, error) {
	pol, err := flags.Policy()
	if err != nil {
		return nil, err
	}
	path := objcmd.StorePath(g)
	if ephemeral {
		dir, err := os.MkdirTemp("", "swarmrun-run-")
		if err != nil {
			return nil, cli.Invalid(err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "swarmrun.db")
	}
	st, err := store.Open(path, store.Options{})
	if errors.Is(err, store.ErrLocked) {
		return nil, cli.Invalid(fmt.Errorf("%w: is 'swarmrun serve' running? use 'swarmrun apply' with it, or run --ephemeral", err))
	}
	if err != nil {
		return nil, cli.Invalid(err)
	}
	defer st.Close()
	engine, closeEngine, err := app.Engine(g)
	if err != nil {
		return nil, err
	}
	defer closeEngine()
	if _, err := engine.Info(ctx); err != nil {
		return nil, cli.Invalid(fmt.Errorf("docker engine: %w", err))
	}

	var tr *v1alpha1.TestRun
	for _, d := range docs {
		if t, ok := d.Object.(*v1alpha1.TestRun); ok {
			tr = t
		}
	}
	p := newPrinter(out, tr.Name)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{Store: st, Engine: engine, DataDir: g.DataDir, Flags: *flags,
			Promotion: true, Progress: p.progress, Policy: pol})
	}()

	if err := replaceFinished(ctx, st, tr.Name, done); err != nil {
		return nil, err
	}
	// Recipes first, so that the TestRun finds its recipe on its first reconcile.
	for _, want := range []string{v1alpha1.KindRecipe, v1alpha1.KindTestRun} {
		for _, d := range docs {
			if kind, _ := store.KindOf(d.Object); kind != want {
				continue
			}
			res, err := st.Apply(ctx, d.Object)
			if err != nil {
				return nil, cli.Invalid(fmt.Errorf("%s: %w", d.Source, err))
			}
			fmt.Fprintf(out, "%s/%s %s\n", kindLower(want), d.Object.GetObjectMeta().Name, res)
		}
	}
	final, err := p.follow(ctx, st, engine, done)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "testrun/%s: %s; results in %s\n", final.Name, verdict(final), results.Dir(g.DataDir, final.Name))
	return final, nil
}

// replaceFinished deletes a TestRun of the same name that already has its verdict, and waits
// until the controller has torn its stack down and it is gone. An unfinished one is kept, to
// be resumed.
func replaceFinished(ctx context.Context, st *store.Store, name string, done <-chan error) error {
	old := &v1alpha1.TestRun{}
	err := st.Get(ctx, name, old)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return cli.Invalid(err)
	}
	c := apimeta.FindStatusCondition(old.Status.Conditions, v1alpha1.ConditionSucceeded)
	if c == nil || c.Status == v1alpha1.ConditionUnknown {
		return nil
	}
	ch, err := st.Watch(ctx, v1alpha1.KindTestRun, old.ResourceVersion)
	if err != nil {
		return cli.Invalid(err)
	}
	if _, err := st.Delete(ctx, v1alpha1.KindTestRun, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return cli.Invalid(err)
	}
	for {
		select {
		case err := <-done:
			return controllerStopped(err)
		case ev, ok := <-ch:
			if !ok {
				return cli.Invalid(fmt.Errorf("waiting for the previous testrun %s to go: watch ended", name))
			}
			if ev.Type == store.Deleted && ev.Object.GetObjectMeta().Name == name {
				return nil
			}
		}
	}
}

func controllerStopped(err error) error {
	if err == nil {
		err = errors.New("controller stopped")
	}
	return cli.Invalid(err)
}

// verdict is the Succeeded condition in words, with the level.
func verdict(tr *v1alpha1.TestRun) string {
	c := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionSucceeded)
	if c == nil {
		return "no verdict"
	}
	state := "Succeeded"
	if c.Status != v1alpha1.ConditionTrue {
		state = "Failed (" + c.Reason + ")"
	}
	return state + ": " + c.Message
}

func kindLower(kind string) string {
	if kind == v1alpha1.KindRecipe {
		return "recipe"
	}
	return "testrun"
}

// printable is the TestRun as -o json prints it: its env masked as results.json masks it, so
// that an operator's secret does not reach a terminal or a CI log.
func printable(tr *v1alpha1.TestRun) *v1alpha1.TestRun {
	out := tr.DeepCopy()
	out.Spec.Env = mask.New().Env(out.Spec.Env)
	return out
}
