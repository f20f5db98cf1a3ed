package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// runs are the TestRuns the demo starts, in order.
var runs = []string{recipeName + "-pr1", mainRun, releaseRun, recipeName + "-pr2"}

// cleanUp removes what the demo made, through swarmrun where swarmrun owns it: the TestRuns
// (their finalizer tears their stacks down), the Recipes (the warm stack goes with its Recipe,
// its volumes kept, as swarmrun keeps an app's data) and the Repository; then it stops serve,
// removes the warm stack's kept volumes and the demo's directory, and checks that nothing of
// the demo is left on the swarm. With keep it stops serve and leaves the rest.
func (m *mission) cleanUp(ctx context.Context, keep bool, stopServe func()) error {
	stacks := []string{warmStack, legacyStack}
	for _, run := range runs {
		if s := m.runStack(ctx, run); s != "" {
			stacks = append(stacks, s)
		}
	}
	if keep {
		stopServe()
		m.sh.step("kept (--keep): serve is stopped, everything else is left")
		m.sh.say("data directory %s (restart: swarmrun serve --data-dir %s)", m.data, m.data)
		m.sh.say("stacks that may still run: %s", strings.Join(stacks, ", "))
		m.sh.say("to remove it all later: serve again, swarmrun delete the objects, docker volume rm %s_data, rm -rf %s", warmStack, m.dir)
		return nil
	}

	m.sh.step("clean up: delete the objects (swarmrun removes their stacks), stop serve, remove the kept volumes")
	var errs []error
	var existing []string
	for _, run := range runs {
		if _, err := m.sh.quiet(ctx, "swarmrun", "get", "testrun", run); err == nil {
			existing = append(existing, run)
		}
	}
	if len(existing) > 0 {
		errs = append(errs, m.deleteAndWait(ctx, "testrun", existing...))
	}
	errs = append(errs, m.deleteAndWait(ctx, "recipe", recipeName, "keycloak"))
	errs = append(errs, m.deleteAndWait(ctx, "repository", repository))
	stopServe()
	fmt.Fprintf(m.sh.out, "$ kill -TERM <serve's pid>\n")
	errs = append(errs, m.removeVolumes(ctx, warmStack))
	left, err := m.leftovers(ctx, stacks)
	errs = append(errs, err)
	if len(left) > 0 {
		errs = append(errs, fmt.Errorf("left on the swarm: %s", strings.Join(left, ", ")))
	} else if err == nil {
		m.sh.say("nothing of the demo is left on the swarm (stacks %s: no service, volume, secret, config or network)", strings.Join(stacks, ", "))
	}
	errs = append(errs, os.RemoveAll(m.dir))
	return errors.Join(errs...)
}

// removeVolumes removes the volumes of stack, once the engine has removed the containers that
// used them (it does so a little after their services are gone).
func (m *mission) removeVolumes(ctx context.Context, stack string) error {
	out, err := m.sh.quiet(ctx, "docker", "volume", "ls", "-q", "--filter", "label=com.docker.stack.namespace="+stack)
	if err != nil || strings.TrimSpace(out) == "" {
		return err
	}
	args := append([]string{"volume", "rm"}, strings.Fields(out)...)
	fmt.Fprintf(m.sh.out, "$ %s\n", shellQuote(append([]string{"docker"}, args...)))
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := m.sh.quiet(ctx, "docker", args...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// deleteAndWait deletes objects of kind and waits until they are gone.
func (m *mission) deleteAndWait(ctx context.Context, kind string, names ...string) error {
	if err := m.sh.run(ctx, "swarmrun", append([]string{"delete", kind}, names...)...); err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		errs = append(errs, m.sh.run(ctx, "swarmrun", "wait", kind, name, "--for=delete", "--timeout", "2m"))
	}
	return errors.Join(errs...)
}

// runStack is the stack TestRun run deployed, or "" when it has none or is gone.
func (m *mission) runStack(ctx context.Context, run string) string {
	out, err := m.sh.quiet(ctx, "swarmrun", "get", "testrun", run, "-o", "json")
	if err != nil {
		return ""
	}
	var tr struct {
		Status struct {
			Stack string `json:"stack"`
		} `json:"status"`
	}
	if json.Unmarshal([]byte(out), &tr) != nil {
		return ""
	}
	return tr.Status.Stack
}

// leftovers lists the services, volumes, secrets, configs and networks of the stacks the demo
// made or caused, by their stack label, and the ones swarmrun labelled with the demo's runs.
func (m *mission) leftovers(ctx context.Context, stacks []string) ([]string, error) {
	var filters []string
	for _, s := range stacks {
		filters = append(filters, "label=com.docker.stack.namespace="+s)
	}
	for _, run := range runs {
		filters = append(filters, "label=swarmrun.dev/testrun="+run)
	}
	var left []string
	for _, kind := range []string{"service", "volume", "secret", "config", "network"} {
		for _, f := range filters {
			out, err := m.sh.quiet(ctx, "docker", kind, "ls", "-q", "--filter", f)
			if err != nil {
				return nil, err
			}
			for _, id := range strings.Fields(out) {
				if item := kind + " " + id; !slices.Contains(left, item) {
					left = append(left, item)
				}
			}
		}
	}
	return left, nil
}
