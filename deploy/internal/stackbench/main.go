package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

type variant struct {
	name string
	args func(file, stack string) (string, []string)
}

type sample struct {
	deploy, upgrade, limit time.Duration
}

func main() {
	var (
		swarmrunBin = flag.String("swarmrun", "bin/swarmrun", "swarmrun binary")
		sizesFlag   = flag.String("sizes", "1,5,20", "stack sizes (services)")
		rounds      = flag.Int("rounds", 2, "rounds per size and tool (alternating order)")
		stable      = flag.Duration("stable", 0, "stability window of the engine-limit poller (default: the compose's update monitor)")
		monitor     = flag.Duration("monitor", 2*time.Second, "update_config.monitor in the generated compose files")
	)
	flag.Parse()
	if *stable == 0 {
		*stable = *monitor
	}
	ctx := context.Background()
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		fatal(err)
	}
	dir, err := os.MkdirTemp("", "stackbench")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)

	variants := []variant{
		{"swarmrun", func(file, stack string) (string, []string) {
			return *swarmrunBin, []string{"stack", "deploy", "-c", file, stack}
		}},
		{"docker", func(file, stack string) (string, []string) {
			return "docker", []string{"stack", "deploy", "--detach=false", "--prune", "-c", file, stack}
		}},
		{"docker-resolve-never", func(file, stack string) (string, []string) {
			return "docker", []string{"stack", "deploy", "--detach=false", "--prune", "--resolve-image", "never", "-c", file, stack}
		}},
	}
	results := map[string]map[int][]sample{}
	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n < 1 {
			fatal(fmt.Errorf("bad size %q", s))
		}
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		v1 := writeCompose(dir, n, "swarmrun-probe:1", *monitor)
		v2 := writeCompose(dir, n, "swarmrun-probe:2", *monitor)
		for r := 0; r < *rounds; r++ {
			order := rotate(variants, r)
			for _, v := range order {
				s, err := runOne(ctx, c, v, n, v1, v2, *stable)
				if err != nil {
					fatal(fmt.Errorf("%s, %d services: %w", v.name, n, err))
				}
				if results[v.name] == nil {
					results[v.name] = map[int][]sample{}
				}
				results[v.name][n] = append(results[v.name][n], s)
				fmt.Fprintf(os.Stderr, "  %-22s n=%-2d deploy %6.2fs upgrade %6.2fs engine-limit %6.2fs\n",
					v.name, n, s.deploy.Seconds(), s.upgrade.Seconds(), s.limit.Seconds())
			}
		}
	}
	report(results, sizes, variants)
}

func rotate(vs []variant, r int) []variant {
	out := make([]variant, len(vs))
	for i := range vs {
		out[i] = vs[(i+r)%len(vs)]
	}
	return out
}

// runOne deploys v1 and upgrades to v2 with one tool, timing both, while the poller records
// the engine's own convergence of the upgrade; then it removes the stack.
func runOne(ctx context.Context, c *client.Client, v variant, n int, v1, v2 string, stable time.Duration) (sample, error) {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	stack := fmt.Sprintf("bench-%s-%d-%s", strings.SplitN(v.name, "-", 2)[0], n, hex.EncodeToString(b))
	defer removeStack(ctx, stack)

	var s sample
	d, err := timed(v, v1, stack)
	if err != nil {
		return s, fmt.Errorf("deploy: %w", err)
	}
	s.deploy = d

	pollCtx, cancel := context.WithCancel(ctx)
	limit := make(chan time.Duration, 1)
	start := time.Now()
	go func() { limit <- pollConverged(pollCtx, c, stack, "swarmrun-probe:2", n, stable, start) }()
	u, err := timed(v, v2, stack)
	if err != nil {
		cancel()
		return s, fmt.Errorf("upgrade: %w", err)
	}
	s.upgrade = u
	// Give the poller time to reach its verdict if the tool returned before the engine settled.
	select {
	case s.limit = <-limit:
	case <-time.After(60 * time.Second):
	}
	cancel()
	return s, nil
}

func timed(v variant, file, stack string) (time.Duration, error) {
	bin, args := v.args(file, stack)
	cmd := exec.Command(bin, args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w\n%s", bin, strings.Join(args, " "), err, out)
	}
	return time.Since(start), nil
}

// pollConverged lists the stack's tasks every 50 ms and returns the time (from start) at
// which every service first had n... all its replicas running the new image, continuously
// for the stability window: the earliest moment any tool could honestly call it converged.
func pollConverged(ctx context.Context, c *client.Client, stack, image string, services int, stable time.Duration, start time.Time) time.Duration {
	f := filters.NewArgs(filters.Arg("label", "com.docker.stack.namespace="+stack))
	var since time.Time
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return 0
		case <-tick.C:
		}
		now := time.Now()
		tasks, err := c.TaskList(ctx, swarm.TaskListOptions{Filters: f})
		if err != nil {
			continue
		}
		running := map[string]int{}
		for _, t := range tasks {
			if t.Spec.ContainerSpec == nil || !strings.HasPrefix(t.Spec.ContainerSpec.Image, image) {
				continue
			}
			if t.Status.State == swarm.TaskStateRunning && t.DesiredState == swarm.TaskStateRunning {
				running[t.ServiceID]++
			}
		}
		ok := len(running) == services
		for _, k := range running {
			ok = ok && k >= 1
		}
		switch {
		case !ok:
			since = time.Time{}
		case since.IsZero():
			since = now
		case now.Sub(since) >= stable:
			return since.Add(stable).Sub(start)
		}
	}
}

func removeStack(ctx context.Context, stack string) {
	out, err := exec.CommandContext(ctx, "bin/swarmrun", "stack", "rm", "--volumes", stack).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "remove %s: %v\n%s", stack, err, out)
	}
}

func writeCompose(dir string, n int, image string, monitor time.Duration) string {
	var b strings.Builder
	b.WriteString("version: \"3.8\"\nservices:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  s%02d:\n    image: %s\n    deploy:\n      update_config: {monitor: %s}\n", i, image, monitor)
	}
	name := filepath.Join(dir, fmt.Sprintf("n%d-%s.yml", n, strings.ReplaceAll(image, ":", "-")))
	if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
		fatal(err)
	}
	return name
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func report(results map[string]map[int][]sample, sizes []int, variants []variant) {
	pick := func(ss []sample, f func(sample) time.Duration) time.Duration {
		var ds []time.Duration
		for _, s := range ss {
			ds = append(ds, f(s))
		}
		return median(ds)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "services\ttool\tdeploy s\tupgrade s\tengine limit s\tupgrade / docker\tupgrade / docker-never\tswarmrun - limit s\t")
	for _, n := range sizes {
		dk := pick(results["docker"][n], func(s sample) time.Duration { return s.upgrade })
		dn := pick(results["docker-resolve-never"][n], func(s sample) time.Duration { return s.upgrade })
		for _, v := range variants {
			ss := results[v.name][n]
			up := pick(ss, func(s sample) time.Duration { return s.upgrade })
			lim := pick(ss, func(s sample) time.Duration { return s.limit })
			over := "-"
			if v.name == "swarmrun" {
				over = fmt.Sprintf("%+.2f", (up - lim).Seconds())
			}
			fmt.Fprintf(w, "%d\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t\n", n, v.name,
				pick(ss, func(s sample) time.Duration { return s.deploy }).Seconds(), up.Seconds(), lim.Seconds(),
				up.Seconds()/dk.Seconds(), up.Seconds()/dn.Seconds(), over)
		}
	}
	_ = w.Flush()
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "stackbench:", err)
	os.Exit(2)
}
