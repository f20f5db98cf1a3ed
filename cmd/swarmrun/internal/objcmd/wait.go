package objcmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/swarmrun/swarmrun/api/client"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
)

// waitFor is a parsed --for: a condition with the status wanted, or deletion.
type waitFor struct {
	deleted   bool
	condition string
	status    metav1.ConditionStatus
}

func parseWaitFor(s string) (waitFor, error) {
	if s == "delete" {
		return waitFor{deleted: true}, nil
	}
	rest, ok := strings.CutPrefix(s, "condition=")
	if !ok || rest == "" {
		return waitFor{}, fmt.Errorf("--for %q: want condition=TYPE[=True|False|Unknown] or delete", s)
	}
	typ, status, found := strings.Cut(rest, "=")
	w := waitFor{condition: typ, status: v1alpha1.ConditionTrue}
	if found {
		switch st := metav1.ConditionStatus(status); st {
		case v1alpha1.ConditionTrue, v1alpha1.ConditionFalse, v1alpha1.ConditionUnknown:
			w.status = st
		default:
			return waitFor{}, fmt.Errorf("--for %q: status %q: want True, False or Unknown", s, status)
		}
	}
	return w, nil
}

// check says whether obj (nil when gone) meets w, and returns an error when it never will: a
// terminal Succeeded condition that settled on the other value.
func (w waitFor) check(obj v1alpha1.Object) (bool, error) {
	if w.deleted || obj == nil {
		return w.deleted && obj == nil, nil
	}
	var cs []v1alpha1.Condition
	switch o := obj.(type) {
	case *v1alpha1.TestRun:
		cs = o.Status.Conditions
	case *v1alpha1.Recipe:
		cs = o.Status.Conditions
	case *v1alpha1.Repository:
		cs = o.Status.Conditions
	}
	c := apimeta.FindStatusCondition(cs, w.condition)
	if c == nil {
		return false, nil
	}
	if c.Status == w.status {
		return true, nil
	}
	if c.Type == v1alpha1.ConditionSucceeded && c.Status != v1alpha1.ConditionUnknown && w.status != v1alpha1.ConditionUnknown {
		return false, fmt.Errorf("condition %s is %s (%s): %s", c.Type, c.Status, cli.Printable(c.Reason), cli.Printable(c.Message))
	}
	return false, nil
}

func newWaitCommand(g *cli.Globals, o Options) *cobra.Command {
	var (
		forFlag string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "wait testrun|recipe|repository NAME --for=condition=TYPE[=STATUS]|delete [--timeout=D]",
		Short: "Wait until an object's condition has a status, or until it is deleted",
		Long: `Wait until an object's condition has a status (True unless given), or until the object is
gone (--for=delete). Exits 0 when it happens, 1 on timeout or when a run's Succeeded condition
settles on the other value.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := kindOf(args[0])
			if err != nil {
				return err
			}
			w, err := parseWaitFor(forFlag)
			if err != nil {
				return cli.Invalid(err)
			}
			c, err := connect(g)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			name := args[1]
			err = waitUntil(ctx, c, kind, name, w)
			what := "condition " + w.condition
			if w.deleted {
				what = "deletion"
			}
			switch {
			case err == nil && w.deleted:
				fmt.Fprintln(cmd.OutOrStdout(), objectName(kind, name), "deleted")
				return nil
			case err == nil:
				fmt.Fprintln(cmd.OutOrStdout(), objectName(kind, name), "condition met")
				return nil
			case errors.Is(err, context.DeadlineExceeded) && cmd.Context().Err() == nil:
				return cli.Failed(fmt.Errorf("timed out after %s waiting for %s on %s", timeout, what, objectName(kind, name)))
			}
			return err
		},
	}
	cmd.Flags().StringVar(&forFlag, "for", "", "condition=TYPE[=True|False|Unknown], or delete")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long (exit 1)")
	cmd.MarkFlagRequired("for")
	return cmd
}

// waitUntil reads the object, then follows its changes until w is met, ctx ends, or the wait
// can never succeed.
func waitUntil(ctx context.Context, c *client.Client, kind, name string, w waitFor) error {
	for {
		obj, _ := store.NewObject(kind)
		err := c.Get(ctx, name, obj)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if w.deleted {
				return nil
			}
			return cli.Failed(err)
		case err != nil:
			return waitErr(ctx, err)
		}
		if done, err := w.check(obj); done || err != nil {
			return failed(err)
		}
		ch, err := c.Watch(ctx, kind, obj.GetObjectMeta().ResourceVersion)
		if err != nil {
			return waitErr(ctx, err)
		}
		for ev := range ch {
			if ev.Type == store.Relist {
				break
			}
			if ev.Object.GetObjectMeta().Name != name {
				continue
			}
			cur := ev.Object
			if ev.Type == store.Deleted {
				cur = nil
			}
			if done, err := w.check(cur); done || err != nil {
				return failed(err)
			}
			if cur == nil {
				return cli.Failed(fmt.Errorf("%s was deleted", objectName(kind, name)))
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func failed(err error) error {
	if err == nil {
		return nil
	}
	return cli.Failed(err)
}

func waitErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return apiError(err)
}
