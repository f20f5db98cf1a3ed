package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/template"
	"time"

	"github.com/swarmrun/swarmrun/forge"
	"github.com/swarmrun/swarmrun/forge/forgetest"
)

var (
	//go:embed objects.yaml
	objectsYAML string
	//go:embed release.yaml
	releaseYAML []byte
	//go:embed keycloak.yml
	keycloakYML []byte
)

// The names the demo uses: what objects.yaml and release.yaml say, and what swarmrun derives
// from them.
const (
	recipeName   = "demo"
	repository   = "demo"
	releaseRun   = "demo-release"
	mainRun      = "demo-main"
	warmStack    = "warm-demo"
	legacyStack  = "warm-keycloak"
	stepTimeout  = "4m"
	forgeOwner   = "recipes"
	botUser      = "swarmrun-bot"
	allowedUser  = "alice"
	strangerUser = "mallory"
)

func main() {
	bin := flag.String("swarmrun", "bin/swarmrun", "the swarmrun binary")
	tree := flag.String("recipe", "demo/recipe", "the directory of the demo recipe's trees")
	keep := flag.Bool("keep", false, "keep everything the demo made: the data directory, the warm stacks, the objects' state")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	err := run(ctx, *bin, *tree, *keep)
	fmt.Printf("\nmission demo finished in %s\n", time.Since(start).Round(time.Second))
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo failed: %v\n", err)
		os.Exit(1)
	}
}

// mission is the demo's state: the forge, the recipe repository, serve and what it made.
type mission struct {
	sh     *shell
	dir    string // the demo's directory: data, recipe repository, files
	data   string // serve's --data-dir
	forge  *forgetest.Server
	repo   forge.Repo
	recipe *recipeRepo
	listen string // serve's TCP address
	secret []byte // the webhook's secret
	sent   int    // webhook deliveries sent, for their IDs
}

func run(ctx context.Context, bin, tree string, keep bool) (err error) {
	bin, err = filepath.Abs(bin)
	if err != nil {
		return err
	}
	if tree, err = filepath.Abs(tree); err != nil {
		return err
	}
	// A short path: serve's unix socket lives under it, and socket paths are short.
	dir, err := os.MkdirTemp("", "swarmrun-demo.")
	if err != nil {
		return err
	}
	m := &mission{dir: dir, data: filepath.Join(dir, "data"), repo: forge.Repo{Owner: forgeOwner, Name: recipeName}}
	m.sh = &shell{out: os.Stdout, bin: bin,
		env: append(os.Environ(), "SWARMRUN_SERVER="+filepath.Join(m.data, "swarmrun.sock"))}
	m.recipe = &recipeRepo{sh: m.sh, dir: filepath.Join(dir, "recipe"), tree: tree}

	m.forge = forgetest.Start(forgetest.Options{})
	defer m.forge.Close()
	stopServe, err := m.setUp(ctx)
	if stopServe != nil {
		defer func() {
			if err != nil {
				m.showServeLog()
			}
			// Cleaning up needs serve (deleting a Recipe removes its warm stack): stop it after.
			err = errors.Join(err, m.cleanUp(context.WithoutCancel(ctx), keep, stopServe))
		}()
	}
	if err != nil {
		return err
	}
	for _, part := range []func(context.Context) error{m.firstPullRequest, m.release, m.secondPullRequest, m.collect, m.observe} {
		if err := part(ctx); err != nil {
			return err
		}
	}
	return nil
}

// setUp builds the recipe repository, seeds the forge, writes the secrets, starts serve and
// applies the operator's objects. stop, when not nil, stops serve.
func (m *mission) setUp(ctx context.Context) (stop func(), err error) {
	m.sh.step("a recipe repository and a forge")
	if err := m.recipe.init(ctx); err != nil {
		return nil, err
	}
	m.sh.say("recipe repository %s: main at release 0.1.0+1", m.recipe.dir)
	m.sh.say("forge %s (forge/forgetest: the Forgejo API routes swarmrun calls, on a loopback port;", m.forge.URL())
	m.sh.say("no forge can be installed here), repository %s, users %s, %s and %s", m.repo, botUser, allowedUser, strangerUser)
	m.forge.AddRepo(m.repo)

	forgeDir := filepath.Join(m.data, "forge", hostOf(m.forge.URL()))
	if err := os.MkdirAll(forgeDir, 0o700); err != nil {
		return nil, err
	}
	m.secret = []byte(randomHex())
	for name, data := range map[string][]byte{"token": []byte(m.forge.AddUser(botUser)), "webhook-secret": m.secret} {
		if err := writeSecret(filepath.Join(forgeDir, name), data); err != nil {
			return nil, err
		}
	}
	m.sh.say("forge token and webhook secret in %s (mode 0600)", forgeDir)
	apiToken := filepath.Join(m.dir, "api-token")
	if err := writeSecret(apiToken, []byte(randomHex())); err != nil {
		return nil, err
	}
	if m.listen, err = freePort(); err != nil {
		return nil, err
	}

	m.sh.step("swarmrun serve: API, controllers, webhook, status page and metrics")
	m.sh.say("export SWARMRUN_SERVER=%s   # the API's unix socket, for the commands below", filepath.Join(m.data, "swarmrun.sock"))
	m.sh.say("serve's log: %s", m.serveLog())
	stop, err = m.startServe(ctx, apiToken)
	if err != nil {
		return stop, err
	}
	objects, err := m.objects(false)
	if err != nil {
		return stop, err
	}
	m.sh.step("the operator applies the demo Recipe (warm), the keycloak Recipe and the forge Repository")
	return stop, m.sh.run(ctx, "swarmrun", "apply", "-f", objects)
}

// startServe starts swarmrun serve in the background and waits until its API answers.
// Garbage collection runs from the command line in this demo (--gc-interval 0): a periodic
// pass of a demo store would judge the stacks of other swarmrun instances on a shared swarm.
func (m *mission) startServe(ctx context.Context, apiToken string) (func(), error) {
	args := []string{"serve", "--data-dir", m.data, "--listen", m.listen, "--insecure", "--token-file", apiToken,
		"--public-status", "--public-metrics", "--gc-interval", "0",
		"--forge-target-url", "http://" + m.listen + "/runs/{testrun}/summary.md"}
	fmt.Fprintf(m.sh.out, "$ %s &\n", shellQuote(append([]string{"swarmrun"}, args...)))
	log, err := os.Create(m.serveLog())
	if err != nil {
		return nil, err
	}
	cmd := m.sh.command(context.WithoutCancel(ctx), "swarmrun", args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); log.Close() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := m.sh.quiet(ctx, "swarmrun", "get", "recipes"); err == nil {
			break
		}
		select {
		case err := <-exited:
			exited <- err
			return stop, fmt.Errorf("swarmrun serve exited: %v", err)
		case <-ctx.Done():
			return stop, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return stop, errors.New("swarmrun serve did not answer within 30s")
		}
	}
	m.sh.say("serving on %s and http://%s (status page /, badges /badge/<recipe>.svg, /metrics)", filepath.Join(m.data, "swarmrun.sock"), m.listen)
	return stop, nil
}

func (m *mission) serveLog() string { return filepath.Join(m.dir, "serve.log") }

// showServeLog prints the end of serve's log, for a failed demo.
func (m *mission) showServeLog() {
	data, err := os.ReadFile(m.serveLog())
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	fmt.Fprintf(m.sh.out, "\n--- the last lines of %s ---\n%s\n", m.serveLog(), strings.Join(lines, "\n"))
}

// objects writes objects.yaml with the recipe repository and the forge filled in, and with
// warm, the Repository's runs based on the warm stack.
func (m *mission) objects(warm bool) (string, error) {
	t, err := template.New("objects.yaml").Option("missingkey=error").Parse(objectsYAML)
	if err != nil {
		return "", err
	}
	path := filepath.Join(m.dir, "objects.yaml")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := t.Execute(f, map[string]any{"Source": m.recipe.dir, "Forge": m.forge.URL(), "Warm": warm}); err != nil {
		return "", err
	}
	return path, f.Close()
}

// firstPullRequest opens pull request #1 (the app moves to image 2, sidekiq is dropped); a
// stranger and then alice ask for a run, by comment and webhook delivery.
func (m *mission) firstPullRequest(ctx context.Context) error {
	m.sh.step("pull request #1: the app moves to image 2 and sidekiq is dropped")
	if err := m.recipe.branch(ctx, "pr-1", "main"); err != nil {
		return err
	}
	head, err := m.recipe.commit(ctx, "0.2.0", "app 2, drop sidekiq")
	if err != nil {
		return err
	}
	m.forge.AddPullRequest(m.repo, 1, head)
	if err := m.recipe.log(ctx); err != nil {
		return err
	}

	m.sh.step("%s, who may not ask for runs, comments !testme on #1; the forge delivers the webhook", strangerUser)
	if err := m.comment(ctx, 1, strangerUser); err != nil {
		return err
	}
	m.sh.step("%s comments !testme on #1; the delivery starts a TestRun at the pull request's head", allowedUser)
	if err := m.comment(ctx, 1, allowedUser); err != nil {
		return err
	}
	if err := m.follow(ctx, recipeName+"-pr1"); err != nil {
		return err
	}
	m.showForge(1, head)
	return nil
}

// comment makes user's !testme comment on pull request n and delivers it to serve's webhook,
// signed as the forge signs it.
func (m *mission) comment(ctx context.Context, n int64, user string) error {
	c := m.forge.Comment(m.repo, n, user, "!testme")
	m.sent++
	id := fmt.Sprintf("demo-delivery-%d", m.sent)
	url := "http://" + m.listen + "/hooks/forge/" + repository
	m.sh.say("POST %s  (X-Forgejo-Event: issue_comment, X-Forgejo-Delivery: %s, X-Forgejo-Signature: HMAC-SHA256)", url, id)
	code, answer, err := forgetest.Post(ctx, url, string(m.secret), "issue_comment", id, m.forge.IssueCommentPayload(m.repo, c, "created"))
	if err != nil {
		return err
	}
	m.sh.say("%d %s", code, strings.TrimSpace(answer))
	if code/100 != 2 {
		return fmt.Errorf("webhook delivery %s answered %d", id, code)
	}
	return nil
}

// follow waits for TestRun watched and the others to be created, prints watched's events as
// they come until its verdict, waits for the others' verdicts, then lists the runs.
func (m *mission) follow(ctx context.Context, watched string, others ...string) error {
	runs := append([]string{watched}, others...)
	for _, run := range runs {
		if err := m.await(ctx, "TestRun "+run, func() bool {
			_, err := m.sh.quiet(ctx, "swarmrun", "get", "testrun", run)
			return err == nil
		}); err != nil {
			return err
		}
	}
	stop, err := m.sh.background(ctx, "swarmrun", "events", "-w", "--for", "testrun/"+watched)
	if err != nil {
		return err
	}
	var errs []error
	for _, run := range runs {
		errs = append(errs, m.sh.run(ctx, "swarmrun", "wait", "testrun", run, "--for=condition=Succeeded", "--timeout", stepTimeout))
	}
	// The verdict's event is recorded with the condition: give the watch a moment to print it.
	time.Sleep(300 * time.Millisecond)
	stop()
	errs = append(errs, m.sh.run(ctx, "swarmrun", "get", "testruns", "-o", "wide"))
	return errors.Join(errs...)
}

// await polls cond until it holds, for at most a minute, saying what it waits for.
func (m *mission) await(ctx context.Context, what string, cond func() bool) error {
	start := time.Now()
	for !cond() {
		if time.Since(start) > time.Minute {
			return fmt.Errorf("%s did not appear within a minute", what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	m.sh.say("%s is there (after %s)", what, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// showForge prints what swarmrun posted on pull request n: the commit statuses on its head and
// the comments.
func (m *mission) showForge(n int64, head string) {
	m.sh.step("what the forge shows on pull request #%d", n)
	m.sh.say("commit statuses on %s, oldest first:", short(head))
	for _, s := range m.forge.Statuses(m.repo, head) {
		m.sh.say("  %-8s %s  %s  (%s, by %s)", s.State, s.Context, s.Description, s.TargetURL, s.Creator)
	}
	for _, c := range m.forge.Comments(m.repo, n) {
		m.sh.say("comment by %s:", c.User.Login)
		for line := range strings.SplitSeq(strings.TrimRight(c.Body, "\n"), "\n") {
			m.sh.say("  | %s", line)
		}
	}
}

// release merges pull request #1, tags release 0.2.0+2 and runs it; the green run of the newest
// release is promoted, and the Recipe controller deploys warm-demo at it.
func (m *mission) release(ctx context.Context) error {
	m.sh.step("#1 is merged and released as 0.2.0+2; CI applies a TestRun of main's tip and one of the tag")
	if err := m.recipe.merge(ctx, "pr-1"); err != nil {
		return err
	}
	if err := m.recipe.tag(ctx, "0.2.0+2"); err != nil {
		return err
	}
	m.forge.ClosePullRequest(m.repo, 1)
	path := filepath.Join(m.dir, "release.yaml")
	if err := os.WriteFile(path, releaseYAML, 0o644); err != nil {
		return err
	}
	if err := m.sh.run(ctx, "swarmrun", "apply", "-f", path); err != nil {
		return err
	}
	if err := m.follow(ctx, releaseRun, mainRun); err != nil {
		return err
	}
	m.sh.step("the green run of the newest release is promoted: the canonical, and the %s stack", warmStack)
	if err := m.sh.run(ctx, "swarmrun", "wait", "recipe", recipeName, "--for=condition=WarmReady", "--timeout", stepTimeout); err != nil {
		return err
	}
	if err := m.sh.run(ctx, "swarmrun", "events", "--for", "recipe/"+recipeName); err != nil {
		return err
	}
	if err := m.sh.run(ctx, "swarmrun", "get", "recipes"); err != nil {
		return err
	}
	if err := m.sh.run(ctx, "swarmrun", "stack", "ps", warmStack); err != nil {
		return err
	}
	m.sh.step("%s is the long-lived app: its users write data (here a note, through the probe in its container)", warmStack)
	container, err := m.sh.quiet(ctx, "docker", "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+warmStack+"_app")
	if err != nil {
		return err
	}
	if fields := strings.Fields(container); len(fields) > 0 {
		container = fields[0]
	}
	if err := m.sh.run(ctx, "docker", "exec", container, "/probe", "-check", "http://127.0.0.1:8080/data/note", "-put", "the-apps-data", "-expect-status", "204"); err != nil {
		return err
	}
	m.sh.step("the operator bases the Repository's runs on the warm stack (template.base.from: warm)")
	objects, err := m.objects(true)
	if err != nil {
		return err
	}
	return m.sh.run(ctx, "swarmrun", "apply", "-f", objects)
}

// secondPullRequest opens pull request #2 on top of the release; alice asks, and this time no
// delivery is sent: the poller finds the comment. The run starts from a copy of the warm
// stack's volumes: the canonical version, with the app's data.
func (m *mission) secondPullRequest(ctx context.Context) error {
	m.sh.step("pull request #2: two replicas of the app; %s's !testme is found by the poller (no webhook)", allowedUser)
	if err := m.recipe.branch(ctx, "pr-2", "main"); err != nil {
		return err
	}
	head, err := m.recipe.commit(ctx, "replicas", "app: two replicas")
	if err != nil {
		return err
	}
	m.forge.AddPullRequest(m.repo, 2, head)
	m.forge.Comment(m.repo, 2, allowedUser, "!testme")
	if err := m.recipe.log(ctx); err != nil {
		return err
	}
	m.sh.say("the Repository lists new comments every 10s (spec.pollInterval); the run copies %s's volumes, deploys no base", warmStack)
	if err := m.follow(ctx, recipeName+"-pr2"); err != nil {
		return err
	}
	m.showForge(2, head)
	m.sh.step("the Repository's account of both pull requests")
	return m.sh.run(ctx, "swarmrun", "events", "--for", "repository/"+repository)
}

// collect plants the stack a legacy harness left behind, warm-keycloak without swarmrun's
// labels, and collects it: found by gc --dry-run, removed with --adopt-warm since the
// keycloak Recipe exists and has no canonical.
func (m *mission) collect(ctx context.Context) error {
	m.sh.step("garbage collection: a legacy %s stack, deployed without swarmrun's labels", legacyStack)
	path := filepath.Join(m.dir, "keycloak.yml")
	if err := os.WriteFile(path, keycloakYML, 0o644); err != nil {
		return err
	}
	if err := m.sh.run(ctx, "docker", "stack", "deploy", "-c", path, legacyStack); err != nil {
		return err
	}
	// gc looks only at the demo's stack: a swarm is shared, and the demo's store knows only the
	// demo's runs.
	scope := []string{"--name-prefix", legacyStack}
	m.sh.say("unlabelled stacks are only reported (exit 0: nothing stale)")
	if _, err := m.sh.runCode(ctx, "swarmrun", append([]string{"gc", "--dry-run"}, scope...)...); err != nil {
		return err
	}
	m.sh.say("with --adopt-warm it is stale: Recipe keycloak exists and has no canonical (exit 1: something stale)")
	if code, err := m.sh.runCode(ctx, "swarmrun", append([]string{"gc", "--dry-run", "--adopt-warm"}, scope...)...); code != 1 {
		return fmt.Errorf("gc --dry-run --adopt-warm: want exit 1 (stale), got %d: %v", code, err)
	}
	if err := m.sh.run(ctx, "swarmrun", append([]string{"gc", "--adopt-warm"}, scope...)...); err != nil {
		return err
	}
	out, err := m.sh.quiet(ctx, "docker", "service", "ls", "-q", "--filter", "label=com.docker.stack.namespace="+legacyStack)
	if err != nil {
		return err
	}
	if strings.TrimSpace(out) != "" {
		return fmt.Errorf("%s still has services after gc: %s", legacyStack, strings.Join(strings.Fields(out), ", "))
	}
	m.sh.say("%s has no services left", legacyStack)
	return nil
}

// observe reads what serve exposes: the metrics and the recipe's badge.
func (m *mission) observe(ctx context.Context) error {
	m.sh.step("observability: /metrics and the badge (public here: --public-metrics, --public-status)")
	metrics, err := m.get(ctx, "/metrics")
	if err != nil {
		return err
	}
	for line := range strings.SplitSeq(metrics, "\n") {
		for _, prefix := range []string{"controller_runtime_reconcile_total{", "swarmrun_testruns_finished_total{",
			"swarmrun_promotions_total{", "swarmrun_services_pruned_total{", "swarmrun_webhook_deliveries_total{"} {
			if strings.HasPrefix(line, prefix) && !strings.HasSuffix(line, " 0") {
				m.sh.say("%s", line)
			}
		}
	}
	badge, err := m.get(ctx, "/badge/"+recipeName+".svg")
	if err != nil {
		return err
	}
	m.sh.say("/badge/%s.svg: %d bytes of SVG, %s", recipeName, len(badge), badgeText(badge))
	m.sh.say("the status page: http://%s/", m.listen)
	return nil
}

// get reads path from serve's TCP listener, printing the request.
func (m *mission) get(ctx context.Context, path string) (string, error) {
	url := "http://" + m.listen + path
	fmt.Fprintf(m.sh.out, "$ curl -s %s\n", url)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return string(body), nil
}

// badgeText is the text a badge shows: its <title>.
func badgeText(svg string) string {
	_, rest, ok := strings.Cut(svg, "<title>")
	title, _, ok2 := strings.Cut(rest, "</title>")
	if !ok || !ok2 {
		return "no title"
	}
	return fmt.Sprintf("%q", title)
}

// hostOf is a URL's host:port, the directory name of its secrets.
func hostOf(rawURL string) string {
	_, rest, _ := strings.Cut(rawURL, "://")
	host, _, _ := strings.Cut(rest, "/")
	return host
}

// freePort returns a loopback address with a port nothing listens on now.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
