//go:build integration

package statuspage

import (
	"context"
	"errors"
	"net/http/httptest"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/swarmrun/swarmrun/api/server"
)

// chromium starts Debian's headless Chromium (scripts/chromium-up.sh installs it; the test
// fails without it, it never skips) with a fresh profile, talking to chromedp over a pipe (no
// port), in a process group of its own, and returns a chromedp context on it. Cleanup kills
// that group by its PID, and nothing else: Chromium's helpers (zygote, renderers) are in it.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("no chromium on PATH (%v): run scripts/chromium-up.sh (make chromium) first", err)
	}
	var output strings.Builder
	started := make(chan *exec.Cmd, 1)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // as root
		chromedp.DisableGPU,
		// This machine's network is closed: background requests would only hang.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.CombinedOutput(&output),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			// Killed if this test process dies first; a group of its own to kill it by.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
			started <- cmd
		}),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	// The first action starts the browser.
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start chromium: %v\n%s", err, output.String())
	}
	cmd := <-started
	t.Cleanup(func() {
		cancelCtx()
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		cancelAlloc()
	})
	return ctx
}

// rendered is what a person sees of the page, read from the browser's DOM after layout.
type rendered struct {
	Title string            `json:"title"`
	Text  string            `json:"text"`
	Runs  []renderedRun     `json:"runs"`
	Recs  map[string]recipe `json:"recipes"`
}

type renderedRun struct {
	Name       string `json:"name"`
	Level      string `json:"level"`
	Background string `json:"background"`
	Visible    bool   `json:"visible"`
	State      string `json:"state"`
	Conditions string `json:"conditions"`
	Files      string `json:"files"`
}

type recipe struct {
	Last       string `json:"last"`
	Canonical  string `json:"canonical"`
	WarmStack  string `json:"warmStack"`
	BadgeWidth int    `json:"badgeWidth"`
}

const readPage = `(() => {
  const txt = el => el ? el.innerText.trim().replace(/\s+/g, ' ') : '';
  const runs = [...document.querySelectorAll('tr.run')].map(tr => {
    const level = tr.querySelector('.level');
    const box = level.getBoundingClientRect();
    return {
      name: txt(tr.querySelector('.name')),
      level: txt(level),
      background: getComputedStyle(level).backgroundColor,
      visible: box.width > 0 && box.height > 0 && getComputedStyle(level).visibility === 'visible',
      state: txt(tr.querySelector('.state')),
      conditions: txt(tr.querySelector('.conditions')),
      files: txt(tr.querySelector('.files')),
    };
  });
  const recipes = {};
  for (const tr of document.querySelectorAll('tr.recipe')) {
    const img = tr.querySelector('img');
    recipes[txt(tr.querySelector('.name'))] = {
      last: txt(tr.querySelector('.last-level')),
      canonical: txt(tr.querySelector('.canonical')),
      warmStack: txt(tr.querySelector('.warm-stack')),
      badgeWidth: img && img.complete ? img.naturalWidth : 0,
    };
  }
  return {title: document.title, text: document.body.innerText, runs, recipes};
})()`

// TestPageInChromium renders / in headless Chromium and checks what a person sees: every
// run with its level badge in its colour, the conditions, the links to result files, the
// recipes' last target-branch level, their badge image, the canonical and the warm stack, and
// no env value anywhere.
func TestPageInChromium(t *testing.T) {
	p, st, _, _ := fixture(t)
	srv := httptest.NewServer(server.New(st, server.Options{Mounts: p.Mounts(false)}))
	defer srv.Close()
	ctx := chromium(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	start := time.Now()
	err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(`#recipe-keycloak`))
	var got rendered
	if err == nil {
		got, err = chromedp.Run(ctx, chromedp.Evaluate[rendered](readPage))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("chromium did not render the page within 60s")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("page loaded and read in Chromium in %s", time.Since(start).Round(time.Millisecond))

	if got.Title != "swarmrun status" {
		t.Errorf("title %q", got.Title)
	}
	want := map[string]renderedRun{
		"discourse-main": {Level: "level 5/5", Background: "rgb(68, 204, 17)", State: "passed in 2h0m0s",
			Files: "results.json junit.xml summary.md"},
		"discourse-old":  {Level: "level 2/5", Background: "rgb(223, 179, 23)", State: "failed in 1h0m0s"},
		"discourse-pr4":  {Level: "level 1/5", Background: "rgb(254, 125, 55)", State: "failed in 3h30m0s"},
		"discourse-next": {Level: "running", Background: "rgb(9, 105, 218)", State: "running", Files: "none yet"},
	}
	if len(got.Runs) != len(want) {
		t.Errorf("%d runs shown, want %d: %+v", len(got.Runs), len(want), got.Runs)
	}
	// Newest first: the fixture created them in this order.
	order := []string{"discourse-next", "discourse-pr4", "discourse-old", "discourse-main"}
	for i, r := range got.Runs {
		if i < len(order) && r.Name != order[i] {
			t.Errorf("run %d is %s, want %s", i, r.Name, order[i])
		}
		w, ok := want[r.Name]
		if !ok {
			t.Errorf("unexpected run %s", r.Name)
			continue
		}
		if r.Level != w.Level || r.Background != w.Background || !r.Visible || r.State != w.State {
			t.Errorf("run %s shows level %q on %s (visible %v), state %q; want %q on %s, state %q",
				r.Name, r.Level, r.Background, r.Visible, r.State, w.Level, w.Background, w.State)
		}
		if w.Files != "" && r.Files != w.Files {
			t.Errorf("run %s result links %q, want %q", r.Name, r.Files, w.Files)
		}
		if !strings.Contains(r.Conditions, "Succeeded") || !strings.Contains(r.Conditions, "Resolved True") {
			t.Errorf("run %s conditions %q", r.Name, r.Conditions)
		}
	}
	for _, r := range got.Runs {
		if r.Name == "discourse-pr4" && !strings.Contains(r.Conditions, `\x1b[31mhttp`) {
			t.Errorf("pr4's condition %q: want the escape sequence shown escaped", r.Conditions)
		}
	}

	d, k := got.Recs["discourse"], got.Recs["keycloak"]
	if d.Last != "level 5/5" || d.Canonical != "0.2.0+2 at 0a1b2c3d from run discourse-main promoted 60m ago" ||
		d.WarmStack != "warm-discourse 0.2.0+2 ready" || d.BadgeWidth == 0 {
		t.Errorf("recipe discourse shows %+v", d)
	}
	if k.Last != "no runs" || k.Canonical != "not warm" || k.WarmStack != "none" || k.BadgeWidth == 0 {
		t.Errorf("recipe keycloak shows %+v", k)
	}
	for _, secret := range append(fixtureEnvValues, "s3cr3t-t0ken") {
		if strings.Contains(got.Text, secret) {
			t.Errorf("the page shows %q", secret)
		}
	}
	for _, want := range []string{"Garbage collection", "gone-pr1-aaaaaa", "failed: secret is in use"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
}
