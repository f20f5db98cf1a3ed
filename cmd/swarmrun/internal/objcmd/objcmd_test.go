package objcmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/swarmrun/swarmrun/api/client"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/objcmd"
)

// now is the clock of the commands and of the served store, so that ages print as 0s.
func now() time.Time { return time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC) }

// syncBuffer is a bytes.Buffer that a command can write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// command runs swarmrun with args against dataDir, as main does, until ctx ends.
func command(ctx context.Context, dataDir string, stdin io.Reader, stdout, stderr *syncBuffer, args ...string) error {
	return commandWith(ctx, objcmd.Options{Now: now}, dataDir, stdin, stdout, stderr, args...)
}

// commandWith is command with the commands' options.
func commandWith(ctx context.Context, o objcmd.Options, dataDir string, stdin io.Reader, stdout, stderr *syncBuffer, args ...string) error {
	root := &cobra.Command{Use: "swarmrun", SilenceUsage: true, SilenceErrors: true}
	g := &cli.Globals{}
	g.Bind(root)
	root.AddCommand(objcmd.Commands(g, o)...)
	root.SetArgs(append([]string{"--data-dir", dataDir, "--server", "", "--ca-file", ""}, args...))
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

// run runs one command to completion and returns its output and exit code.
func run(t *testing.T, dataDir string, args ...string) (string, string, int) {
	t.Helper()
	return runIn(t, dataDir, "", args...)
}

// runIn is run with stdin.
func runIn(t *testing.T, dataDir, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut syncBuffer
	err := command(t.Context(), dataDir, strings.NewReader(stdin), &out, &errOut, args...)
	if err != nil {
		errOut.Write([]byte("error: " + err.Error() + "\n"))
	}
	return out.String(), errOut.String(), cli.ExitCode(err)
}

// serve starts `swarmrun serve` on a fresh data dir and returns the dir once the API answers.
func serve(t *testing.T) string {
	t.Helper()
	return startServe(t).dir
}

// serveStore is serve that also returns the served store, through which a test writes status
// as the controllers do: the API refuses status writes to clients.
func serveStore(t *testing.T) (string, *store.Store) {
	t.Helper()
	s := startServe(t)
	return s.dir, s.st
}

// served is a running `swarmrun serve`.
type served struct {
	dir string       // its data dir
	st  *store.Store // its store
	tcp string       // the address it serves --listen on, if any
	log *syncBuffer  // its log
	// shared is what it gave its runners.
	shared objcmd.Served
}

// startServe starts `swarmrun serve` with args on a fresh data dir, and returns once the
// socket answers and, with --listen, the TCP address is known.
func startServe(t *testing.T, args ...string) served {
	t.Helper()
	return startServeHooks(t, nil, args...)
}

// startServeHooks is startServe with serve's webhook handler (objcmd.Options.Hooks).
func startServeHooks(t *testing.T, hooks func(objcmd.Served) (http.Handler, error), args ...string) served {
	t.Helper()
	// Unix socket paths are limited to 108 bytes, which t.TempDir() can exceed.
	dir, err := os.MkdirTemp("", "sr")
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	ctx, cancel := context.WithCancel(logr.NewContext(context.Background(), funcr.New(func(prefix, args string) {
		fmt.Fprintln(log, prefix, args)
	}, funcr.Options{})))
	done := make(chan error, 1)
	var out, errOut syncBuffer
	shared := make(chan objcmd.Served, 1)
	o := objcmd.Options{Now: now, Hooks: hooks, Runners: []objcmd.Runner{func(ctx context.Context, s objcmd.Served) error {
		shared <- s
		<-ctx.Done()
		return nil
	}}}
	go func() { done <- commandWith(ctx, o, dir, nil, &out, &errOut, append([]string{"serve"}, args...)...) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, errOut.String())
		}
		os.RemoveAll(dir)
	})
	c := apiClient(t, dir)
	deadline := time.Now().Add(10 * time.Second)
	for c.Healthz(t.Context()) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer within 10s:\n%s%s", errOut.String(), log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	sh := <-shared
	s := served{dir: dir, st: sh.Store, log: log, shared: sh}
	if slices.Contains(args, "--listen") {
		// The TCP listener's address, port included, is in its "serving API" line.
		re := regexp.MustCompile(`"msg"="serving API" "address"="([0-9.:]+)"`)
		for {
			if m := re.FindStringSubmatch(log.String()); m != nil {
				s.tcp = m[1]
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no TCP address in serve's log within 10s:\n%s", log.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return s
}

func apiClient(t *testing.T, dir string) *client.Client {
	t.Helper()
	c, err := client.New(filepath.Join(dir, "swarmrun.sock"), "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const examples = "../../../../examples"

func TestApplyGetDescribeDeleteRoundTrip(t *testing.T) {
	dir := serve(t)
	changed := filepath.Join(t.TempDir(), "testrun.yaml")
	b, err := os.ReadFile(filepath.Join(examples, "testrun.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(changed, bytes.Replace(b, []byte("head: 4f1c2a9e"), []byte("head: 9e0d1b2c"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args   []string
		want   string // exact stdout, or the lines it must contain when contains is set
		code   int
		stderr string
	}{
		{args: []string{"apply", "-f", examples}, want: "recipe.swarmrun.dev/demo created\nrepository.swarmrun.dev/demo created\ntestrun.swarmrun.dev/demo-pr12 created\n"},
		{args: []string{"apply", "-f", examples}, want: "recipe.swarmrun.dev/demo unchanged\nrepository.swarmrun.dev/demo unchanged\ntestrun.swarmrun.dev/demo-pr12 unchanged\n"},
		{args: []string{"apply", "-f", changed}, want: "testrun.swarmrun.dev/demo-pr12 configured\n"},
		{args: []string{"get", "testruns"}, want: "" +
			"NAME        RECIPE   HEAD       BASE   LEVEL   SUCCEEDED   AGE   MESSAGE\n" +
			"demo-pr12   demo     9e0d1b2c   -      0       Unknown     0s    \n"},
		{args: []string{"get", "recipes"}, want: "" +
			"NAME   URL                 WARM    CANONICAL   AGE\n" +
			"demo   /srv/recipes/demo   false   -           0s\n"},
		{args: []string{"get", "repositories"}, want: "" +
			"NAME   FORGE     REPOSITORY     RECIPE   POLL   READY     AGE\n" +
			"demo   forgejo   recipes/demo   demo     5m0s   Unknown   0s\n"},
		{args: []string{"get", "repo", "demo", "-o", "wide"}, want: "" +
			"NAME   FORGE     REPOSITORY     RECIPE   POLL   READY     AGE   URL                       PHRASE    PULL-REQUESTS   PENDING\n" +
			"demo   forgejo   recipes/demo   demo     5m0s   Unknown   0s    https://git.example.org   !testme   0               0\n"},
		{args: []string{"delete", "repository", "demo"}, want: "repository.swarmrun.dev \"demo\" deleted\n"},
		{args: []string{"delete", "testrun", "demo-pr12"}, want: "testrun.swarmrun.dev \"demo-pr12\" deleted\n"},
		{args: []string{"get", "testrun", "demo-pr12"}, code: 1, stderr: `testruns.swarmrun.dev "demo-pr12" not found`},
		{args: []string{"get", "testruns"}, stderr: "No resources found."},
	}
	for _, s := range steps {
		out, errOut, code := run(t, dir, s.args...)
		if code != s.code || out != s.want || !strings.Contains(errOut, s.stderr) {
			t.Fatalf("swarmrun %s: exit %d (want %d)\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", strings.Join(s.args, " "), code, s.code, out, s.want, errOut)
		}
	}
}

func TestApplyFromStdin(t *testing.T) {
	dir := serve(t)
	in := "apiVersion: swarmrun.dev/v1alpha1\nkind: Recipe\nmetadata: {name: a}\nspec: {source: {url: /srv/a}}\n---\n" +
		"apiVersion: swarmrun.dev/v1alpha1\nkind: TestRun\nmetadata: {name: a-1}\nspec: {recipe: a}\n"
	out, errOut, code := runIn(t, dir, in, "apply", "-f", "-")
	if code != 0 || out != "recipe.swarmrun.dev/a created\ntestrun.swarmrun.dev/a-1 created\n" {
		t.Fatalf("apply -f - (exit %d):\n%s%s", code, out, errOut)
	}
	_, errOut, code = runIn(t, dir, "kind: TestRun\n", "apply", "-f", "-")
	if code != 2 || !strings.Contains(errOut, "<stdin>") {
		t.Errorf("bad stdin: exit %d, want 2 naming <stdin>:\n%s", code, errOut)
	}
}

func TestDescribe(t *testing.T) {
	dir, st := serveStore(t)
	if _, errOut, code := run(t, dir, "apply", "-f", examples); code != 0 {
		t.Fatal(errOut)
	}
	c := apiClient(t, dir)
	var tr v1alpha1.TestRun
	if err := c.Get(t.Context(), "demo-pr12", &tr); err != nil {
		t.Fatal(err)
	}
	tr.Status.Base = &v1alpha1.BasePlan{Kind: v1alpha1.BaseVersion, Version: "0.7.0+3.3.1", Reason: "last green"}
	tr.Status.Level = 2
	tr.Status.Conditions = []v1alpha1.Condition{{Type: v1alpha1.ConditionSucceeded, Status: v1alpha1.ConditionFalse,
		Reason: v1alpha1.ReasonCheckFailed, Message: "home-page: want 200, got 502"}}
	if err := st.UpdateStatus(t.Context(), &tr); err != nil {
		t.Fatal(err)
	}
	ref := v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: "demo-pr12"}
	if err := c.RecordEvent(t.Context(), ref, v1alpha1.EventWarning, "CheckFailed", "home-page failed"); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, dir, "describe", "testrun", "demo-pr12")
	if code != 0 {
		t.Fatal(errOut)
	}
	for _, want := range []string{
		"Name:       demo-pr12", "Recipe:       demo", "Env:          LOG_LEVEL", "Base:  version 0.7.0+3.3.1: last green",
		"Level: 2", "Succeeded  False   CheckFailed", "Warning  CheckFailed", "home-page failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "debug") {
		t.Errorf("describe shows an env value:\n%s", out)
	}
	out, _, _ = run(t, dir, "get", "testruns", "-o", "wide")
	if !strings.Contains(out, "0.7.0+3.3.1   2       False       0s    home-page: want 200, got 502   CheckFailed") {
		t.Errorf("wide table:\n%s", out)
	}

	out, errOut, code = run(t, dir, "describe", "recipe", "demo")
	if code != 0 || !strings.Contains(out, "Not applicable: backup: the recipe declares no backup labels") || !strings.Contains(out, "Checks:         install 1, upgrade 1+2") {
		t.Errorf("describe recipe (exit %d):\n%s%s", code, out, errOut)
	}

	var repo v1alpha1.Repository
	if err := c.Get(t.Context(), "demo", &repo); err != nil {
		t.Fatal(err)
	}
	repo.Status.ForgeUser = "swarmrun-bot"
	repo.Status.PullRequests = []v1alpha1.PullRequestRecord{{Number: 12, LastComment: 40, TestRun: "demo-pr12", Comment: 40, User: "alice",
		Head: "4f1c2a9e0d", Reported: v1alpha1.StateFailure, SummaryComment: 41}, {Number: 13, LastComment: 50, RefusalComment: 51}}
	repo.Status.Conditions = []v1alpha1.Condition{{Type: v1alpha1.ConditionReady, Status: v1alpha1.ConditionFalse,
		Reason: v1alpha1.ReasonForgeError, Message: "GET /api/v1/user: 503"}}
	if err := st.UpdateStatus(t.Context(), &repo); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = run(t, dir, "describe", "repository", "demo")
	if code != 0 {
		t.Fatalf("describe repository (exit %d):\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"Forge:          forgejo at https://git.example.org", "Repository:     recipes/demo",
		`Trigger:        "!testme" by users alice; team recipes/maintainers`, "Poll:           every 5m0s",
		"Template:       stages install,upgrade; upgrade base -; teardown Always; timeout 30m0s; env LOG_LEVEL",
		"Forge user:       swarmrun-bot",
		"Pull request #12: demo-pr12 at 4f1c2a9e, asked by alice in comment 40; reported failure, summary comment 41",
		"Pull request #13: no run; refusal comment 51",
		"Ready  False   ForgeError",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe repository lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "debug") {
		t.Errorf("describe repository shows an env value:\n%s", out)
	}
}

func TestGetOutputFormats(t *testing.T) {
	dir := serve(t)
	if _, errOut, code := run(t, dir, "apply", "-f", examples); code != 0 {
		t.Fatal(errOut)
	}
	out, _, code := run(t, dir, "get", "testruns", "-o", "json")
	var list struct {
		Kind  string             `json:"kind"`
		Items []v1alpha1.TestRun `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 {
		t.Fatalf("-o json (exit %d): %v\n%s", code, err, out)
	}
	if list.Kind != "TestRunList" || len(list.Items) != 1 || list.Items[0].Spec.Recipe != "demo" {
		t.Errorf("-o json = %+v", list)
	}
	out, _, _ = run(t, dir, "get", "recipe", "demo", "-o", "yaml")
	for _, want := range []string{"kind: Recipe\n", "name: demo\n", "url: /srv/recipes/demo\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("-o yaml lacks %q:\n%s", want, out)
		}
	}
}

func TestBadInputStoresNothing(t *testing.T) {
	dir := serve(t)
	specs := t.TempDir()
	good := "apiVersion: swarmrun.dev/v1alpha1\nkind: TestRun\nmetadata: {name: good}\nspec: {recipe: demo}\n"
	bad := "apiVersion: swarmrun.dev/v1alpha1\nkind: TestRun\nmetadata: {name: bad}\nspec:\n  recipe: demo\n  stages: [instal]\n  teardown: Sometimes\n"
	os.WriteFile(filepath.Join(specs, "a-good.yaml"), []byte(good), 0o600)
	os.WriteFile(filepath.Join(specs, "b-bad.yaml"), []byte(bad), 0o600)

	_, errOut, code := run(t, dir, "apply", "-f", specs)
	if code != 2 {
		t.Fatalf("apply bad set: exit %d, want 2\n%s", code, errOut)
	}
	for _, want := range []string{"b-bad.yaml", "spec.stages[0]", "spec.teardown"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("error lacks %q:\n%s", want, errOut)
		}
	}
	if _, errOut, _ := run(t, dir, "get", "testruns"); !strings.Contains(errOut, "No resources found.") {
		t.Errorf("something was stored from a bad set:\n%s", errOut)
	}
}

func TestExitCodes(t *testing.T) {
	dir := serve(t)
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"get", "pods"}, 2, `unknown resource type "pods"`},
		{[]string{"get", "testruns", "-o", "xml"}, 2, "want wide, yaml or json"},
		{[]string{"get", "testrun", "nope"}, 1, `testruns.swarmrun.dev "nope" not found`},
		{[]string{"describe", "recipe", "nope"}, 1, `recipes.swarmrun.dev "nope" not found`},
		{[]string{"delete", "testrun", "nope"}, 1, `"nope" not found`},
		{[]string{"wait", "testrun", "nope", "--for=condition=Succeeded"}, 1, "not found"},
		{[]string{"wait", "testrun", "x", "--for=ready"}, 2, "want condition=TYPE"},
		{[]string{"apply"}, 2, "needs -f"},
		{[]string{"apply", "-f", "/does/not/exist.yaml"}, 2, "exist.yaml"},
		{[]string{"serve", "--listen", "127.0.0.1:0"}, 2, "--listen needs a token"},
		{[]string{"serve", "--insecure"}, 2, "apply to --listen, which is not set"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, errOut, code := run(t, dir, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tt.code, errOut, tt.msg)
			}
		})
	}
}

// setSucceeded writes the Succeeded condition of a TestRun, as the controller would.
func setSucceeded(t *testing.T, st *store.Store, name string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	var tr v1alpha1.TestRun
	if err := st.Get(t.Context(), name, &tr); err != nil {
		t.Error(err)
		return
	}
	tr.Status.Conditions = []v1alpha1.Condition{{Type: v1alpha1.ConditionSucceeded, Status: status, Reason: reason, Message: "done"}}
	if err := st.UpdateStatus(t.Context(), &tr); err != nil {
		t.Error(err)
	}
}

func TestWait(t *testing.T) {
	dir, st := serveStore(t)
	c := apiClient(t, dir)
	tests := []struct {
		name   string
		args   []string
		act    func(name string)
		code   int
		stdout string
		stderr string
	}{
		{"condition met", []string{"--for=condition=Succeeded"}, func(n string) {
			setSucceeded(t, st, n, v1alpha1.ConditionTrue, "Succeeded")
		}, 0, "condition met", ""},
		{"run failed", []string{"--for=condition=Succeeded", "--timeout=20s"}, func(n string) {
			setSucceeded(t, st, n, v1alpha1.ConditionFalse, "CheckFailed")
		}, 1, "", "condition Succeeded is False (CheckFailed)"},
		{"wait for False", []string{"--for=condition=Succeeded=False"}, func(n string) {
			setSucceeded(t, st, n, v1alpha1.ConditionFalse, "CheckFailed")
		}, 0, "condition met", ""},
		{"deleted", []string{"--for=delete"}, func(n string) {
			if _, err := c.Delete(t.Context(), v1alpha1.KindTestRun, n); err != nil {
				t.Error(err)
			}
		}, 0, "deleted", ""},
		{"timeout", []string{"--for=condition=Succeeded", "--timeout=300ms"}, func(string) {}, 1, "", "timed out after 300ms waiting for condition Succeeded on testrun.swarmrun.dev/"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "run-" + string(rune('a'+i))
			tr := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: name}, Spec: v1alpha1.TestRunSpec{Recipe: "demo"}}
			if err := c.Create(t.Context(), tr); err != nil {
				t.Fatal(err)
			}
			// Act once the wait is (very likely) watching; either order must work.
			go func() {
				time.Sleep(100 * time.Millisecond)
				tt.act(name)
			}()
			out, errOut, code := run(t, dir, append([]string{"wait", "testrun", name}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", code, tt.code, out, tt.stdout, errOut, tt.stderr)
			}
		})
	}
}

func TestGetWatchStreamsRows(t *testing.T) {
	dir := serve(t)
	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- command(ctx, dir, nil, &out, &errOut, "get", "testruns", "-w") }()

	c := apiClient(t, dir)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; !strings.Contains(out.String(), "late-run"); i++ {
		if i == 5 {
			tr := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: "late-run"}, Spec: v1alpha1.TestRunSpec{Recipe: "demo"}}
			if err := c.Create(t.Context(), tr); err != nil {
				t.Fatal(err)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no row for late-run within 10s:\n%s%s", out.String(), errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("get -w ended with %v", err)
	}
	if !strings.HasPrefix(out.String(), "NAME") {
		t.Errorf("no header first:\n%s", out.String())
	}
}

// TestServeRunnersAndFlags: serve registers the runners' flags through ServeFlags, runs
// every runner over the served store with the parsed values, and stops them on shutdown.
func TestServeRunnersAndFlags(t *testing.T) {
	dir, err := os.MkdirTemp("", "sr")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var every time.Duration
	got := make(chan time.Duration, 2)
	runner := func(ctx context.Context, s objcmd.Served) error {
		if s.Store == nil || s.Registry == nil || s.Metrics == nil || s.GC == nil {
			return fmt.Errorf("runner given %+v, want a store, a registry, metrics and a GC log", s)
		}
		got <- every
		<-ctx.Done()
		return nil
	}
	root := &cobra.Command{Use: "swarmrun", SilenceUsage: true, SilenceErrors: true}
	g := &cli.Globals{}
	g.Bind(root)
	root.AddCommand(objcmd.Commands(g, objcmd.Options{Now: now,
		Runners:    []objcmd.Runner{runner, runner},
		ServeFlags: func(f *pflag.FlagSet) { f.DurationVar(&every, "every", time.Second, "a runner's flag") },
	})...)
	root.SetArgs([]string{"--data-dir", dir, "--server", "", "serve", "--every", "7s"})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	for range 2 {
		select {
		case d := <-got:
			if d != 7*time.Second {
				t.Errorf("runner saw --every %s, want 7s", d)
			}
		case err := <-done:
			t.Fatalf("serve stopped before its runners ran: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("runners did not start within 10s")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// TestOutputEscapesControlCharacters: describe and get print what controllers and clients
// wrote (conditions, events) with control characters escaped, one line per row; an event
// recorded through the API is stored capped.
func TestOutputEscapesControlCharacters(t *testing.T) {
	dir, st := serveStore(t)
	c := apiClient(t, dir)
	tr := &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: "loud"}, Spec: v1alpha1.TestRunSpec{Recipe: "demo"}}
	if err := c.Create(t.Context(), tr); err != nil {
		t.Fatal(err)
	}
	const evil = "\x1b[2J\x1b]0;owned\x07\u202eevil\nsecond line\r"
	tr.Status.Conditions = []v1alpha1.Condition{{Type: v1alpha1.ConditionSucceeded, Status: v1alpha1.ConditionFalse, Reason: "CheckFailed\x1b[8m", Message: evil}}
	if err := st.UpdateStatus(t.Context(), tr); err != nil {
		t.Fatal(err)
	}
	ref := v1alpha1.ObjectReference{Kind: v1alpha1.KindTestRun, Name: "loud"}
	if err := c.RecordEvent(t.Context(), ref, v1alpha1.EventWarning, "Loud\x1b[5m", evil+strings.Repeat("x", 5000)); err != nil {
		t.Fatal(err)
	}
	events, err := c.Events(t.Context(), v1alpha1.KindTestRun, "loud")
	if err != nil || len(events) != 1 || len(events[0].Message) > store.MaxEventMessageBytes || !strings.HasSuffix(events[0].Message, store.TruncatedMarker) {
		t.Fatalf("stored event: %+v, %v; want the message capped at %d bytes", events, err, store.MaxEventMessageBytes)
	}
	for _, args := range [][]string{{"describe", "testrun", "loud"}, {"get", "testruns"}, {"get", "testruns", "-o", "wide"}} {
		out, errOut, code := run(t, dir, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", args, code, errOut)
		}
		if strings.ContainsFunc(out, func(r rune) bool { return r != '\n' && (r < 0x20 || r == 0x7f || r == '\u202e') }) {
			t.Errorf("%s prints control characters:\n%q", args, out)
		}
		if !strings.Contains(out, `\x1b[2J\x1b]0;owned\a\u202eevil second line`) {
			t.Errorf("%s does not show the message escaped:\n%s", args, out)
		}
	}
	out, _, _ := run(t, dir, "describe", "testrun", "loud")
	if !strings.Contains(out, `Warning  Loud\x1b[5m`) || !strings.Contains(out, `CheckFailed\x1b[8m`) {
		t.Errorf("describe does not show reasons escaped:\n%s", out)
	}
}

// TestApplyRefusesEmptyAndDuplicateInput: apply -f of an input with no object (a file, a
// directory, standard input) or of JSON with a key written twice exits 2 naming the input, and
// stores nothing.
func TestApplyRefusesEmptyAndDuplicateInput(t *testing.T) {
	dir := serve(t)
	specs := t.TempDir()
	empty := filepath.Join(specs, "empty.yaml")
	os.WriteFile(empty, []byte("# nothing yet\n---\n"), 0o600)
	emptyDir := filepath.Join(specs, "dir")
	os.Mkdir(emptyDir, 0o700)
	os.WriteFile(filepath.Join(emptyDir, "a.yaml"), nil, 0o600)
	dup := filepath.Join(specs, "x.json")
	os.WriteFile(dup, []byte(`{"apiVersion":"swarmrun.dev/v1alpha1","kind":"TestRun","metadata":{"name":"a"},"spec":{"recipe":"r","recipe":"s"}}`), 0o600)
	tests := []struct {
		args  []string
		stdin string
		msg   string
	}{
		{[]string{"-f", empty}, "", empty + ": no objects"},
		{[]string{"-f", emptyDir}, "", emptyDir + ": no objects"},
		{[]string{"-f", "-"}, "\n", "<stdin>: no objects"},
		{[]string{"-f", dup}, "", dup + `:1: spec: duplicate field "recipe"`},
	}
	for _, tt := range tests {
		_, errOut, code := runIn(t, dir, tt.stdin, append([]string{"apply"}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.msg) {
			t.Errorf("apply %s: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.msg)
		}
	}
	if _, errOut, _ := run(t, dir, "get", "testruns"); !strings.Contains(errOut, "No resources found.") {
		t.Errorf("something was stored:\n%s", errOut)
	}
}

// TestGetMasksSecretEnv: get -o yaml|json shows the values of secret-shaped env keys as ***,
// in TestRuns and Recipes, lists and single objects; other values as they are.
func TestGetMasksSecretEnv(t *testing.T) {
	dir := serve(t)
	in := `apiVersion: swarmrun.dev/v1alpha1
kind: Recipe
metadata: {name: demo}
spec:
  source: {url: /srv/demo}
  env: {DB_PASSWORD: hunter2-recipe, DOMAIN: demo.example.org}
  previous: {version: 0.1.0+1, env: {API_TOKEN: hunter2-previous}}
  checks:
    install:
      - name: login
        job: {image: "alpine:3", command: [true], env: {SECRET_KEY: hunter2-job}}
---
apiVersion: swarmrun.dev/v1alpha1
kind: TestRun
metadata: {name: demo-1}
spec: {recipe: demo, env: {DB_PASSWORD: hunter2-run, LOG_LEVEL: debug}}
---
apiVersion: swarmrun.dev/v1alpha1
kind: Repository
metadata: {name: demo}
spec:
  {forge: gitea, url: "https://git.example.org", owner: recipes, repo: demo, recipe: demo, tokenFile: token, pollInterval: 1m,
   trigger: {users: [alice]}, template: {env: {DB_PASSWORD: hunter2-template, LOG_LEVEL: debug}}}
`
	if _, errOut, code := runIn(t, dir, in, "apply", "-f", "-"); code != 0 {
		t.Fatal(errOut)
	}
	for _, args := range [][]string{
		{"get", "testruns", "-o", "json"}, {"get", "testruns", "-o", "yaml"}, {"get", "testrun", "demo-1", "-o", "json"},
		{"get", "recipes", "-o", "yaml"}, {"get", "recipe", "demo", "-o", "json"},
		{"get", "repositories", "-o", "yaml"}, {"get", "repository", "demo", "-o", "json"},
	} {
		out, errOut, code := run(t, dir, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", args, code, errOut)
		}
		if strings.Contains(out, "hunter2") || !strings.Contains(out, "***") {
			t.Errorf("%s shows a secret, or masks nothing:\n%s", args, out)
		}
		if !strings.Contains(out, "debug") && !strings.Contains(out, "demo.example.org") {
			t.Errorf("%s masks values that are not secrets:\n%s", args, out)
		}
	}
	// The store keeps the real values.
	var tr v1alpha1.TestRun
	if err := apiClient(t, dir).Get(t.Context(), "demo-1", &tr); err != nil || tr.Spec.Env["DB_PASSWORD"] != "hunter2-run" {
		t.Errorf("stored env %v, %v", tr.Spec.Env, err)
	}
}
