package statuspage

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/swarmrun/swarmrun/api/server"
)

// serveFixture serves the fixture's page as serve mounts it on the socket.
func serveFixture(t *testing.T) (string, string) {
	t.Helper()
	p, st, dataDir, _ := fixture(t)
	srv := httptest.NewServer(server.New(st, server.Options{Mounts: p.Mounts(false)}))
	t.Cleanup(srv.Close)
	return srv.URL, dataDir
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// text is the text of the first element under n with the id or class, and whether there is one.
func text(n *html.Node, match func(*html.Node) bool) (string, bool) {
	if n.Type == html.ElementNode && match(n) {
		var b strings.Builder
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.TextNode {
				b.WriteString(n.Data)
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(n)
		return strings.Join(strings.Fields(b.String()), " "), true
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if s, ok := text(c, match); ok {
			return s, true
		}
	}
	return "", false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func byID(id string) func(*html.Node) bool {
	return func(n *html.Node) bool { return attr(n, "id") == id }
}

// within finds the element with id, then the first one under it with class.
func within(t *testing.T, doc *html.Node, id, class string) string {
	t.Helper()
	var row *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if row == nil && n.Type == html.ElementNode && attr(n, "id") == id {
			row = n
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if row == nil {
		t.Fatalf("no element #%s", id)
	}
	s, ok := text(row, func(n *html.Node) bool { return strings.Contains(" "+attr(n, "class")+" ", " "+class+" ") })
	if !ok {
		t.Fatalf("no .%s in #%s", class, id)
	}
	return s
}

func TestPageShowsRunsRecipesAndGarbageCollection(t *testing.T) {
	base, _ := serveFixture(t)
	resp, body := get(t, base+"/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy %q: want no script at all", csp)
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ id, class, want string }{
		{"run-discourse-main", "level", "level 5/5"},
		{"run-discourse-main", "state", "passed in 2h0m0s"},
		{"run-discourse-main", "head", "main at feedface"},
		{"run-discourse-main", "base", "0.1.0+1"},
		{"run-discourse-main", "files", "results.json junit.xml summary.md"},
		{"run-discourse-old", "level", "level 2/5"},
		{"run-discourse-pr4", "level", "level 1/5"},
		{"run-discourse-pr4", "state", "failed in 3h30m0s"},
		{"run-discourse-next", "level", "running"},
		{"run-discourse-next", "files", "none yet"},
		{"recipe-discourse", "last-level", "level 5/5"},
		{"recipe-discourse", "canonical", "0.2.0+2 at 0a1b2c3d from run discourse-main promoted 60m ago"},
		{"recipe-discourse", "warm-stack", "warm-discourse 0.2.0+2 ready"},
		{"recipe-discourse", "source", "https://git.example.org/recipes/discourse.git"},
		{"recipe-keycloak", "last-level", "no runs"},
		{"recipe-keycloak", "canonical", "not warm"},
		{"recipe-keycloak", "branch", "develop"},
	} {
		if got := within(t, doc, tt.id, tt.class); got != tt.want {
			t.Errorf("#%s .%s = %q, want %q", tt.id, tt.class, got, tt.want)
		}
	}
	// The pull request's condition message quotes a terminal escape: shown escaped.
	if got := within(t, doc, "run-discourse-pr4", "conditions"); !strings.Contains(got, `check \x1b[31mhttp\x1b[0m failed`) {
		t.Errorf("pr4 conditions %q: want the escape sequence escaped", got)
	}
	if strings.Contains(body, "\x1b") {
		t.Error("the page carries a raw escape character")
	}
	gc, _ := text(doc, byID("gc"))
	if gc != "Garbage collection" {
		t.Errorf("GC heading %q", gc)
	}
	for _, want := range []string{"gone-pr1-aaaaaa", "testrun gone-pr1 no longer exists", "removed", "secret is in use", "10m ago"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q of the GC log", want)
		}
	}
	for _, secret := range append(fixtureEnvValues, "s3cr3t-t0ken", "bot:") {
		if strings.Contains(body, secret) {
			t.Errorf("the page shows %q", secret)
		}
	}
	if strings.Contains(body, "<script") {
		t.Error("the page has a script")
	}
}

func TestResultFilesAreServedConfinedAndWithoutEnvValues(t *testing.T) {
	base, dataDir := serveFixture(t)
	runs := filepath.Join(dataDir, "runs")
	// A link out of the runs directory, and a run directory that is a link elsewhere.
	if err := os.Remove(filepath.Join(runs, "discourse-old", "summary.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dataDir, "swarmrun.db"), filepath.Join(runs, "discourse-old", "summary.md")); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "junit.xml"), []byte("<outside/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(runs, "discourse-pr4")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(runs, "discourse-pr4")); err != nil {
		t.Fatal(err)
	}
	// Result files of a run that no longer exists are not served.
	if err := os.MkdirAll(filepath.Join(runs, "deleted-run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runs, "deleted-run", "summary.md"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		path string
		code int
		ct   string
	}{
		{"/runs/discourse-main/results.json", http.StatusOK, "application/json"},
		{"/runs/discourse-main/junit.xml", http.StatusOK, "application/xml; charset=utf-8"},
		{"/runs/discourse-main/summary.md", http.StatusOK, "text/markdown; charset=utf-8"},
		{"/runs/discourse-old/summary.md", http.StatusNotFound, ""},
		{"/runs/discourse-pr4/junit.xml", http.StatusNotFound, ""},
		{"/runs/discourse-next/results.json", http.StatusNotFound, ""},
		{"/runs/deleted-run/summary.md", http.StatusNotFound, ""},
		{"/runs/nope/results.json", http.StatusNotFound, ""},
		{"/runs/discourse-main/other.txt", http.StatusNotFound, ""},
		{"/runs/discourse-main/..%2f..%2fswarmrun.db", http.StatusNotFound, ""},
		{"/runs/..%2f/swarmrun.db", http.StatusNotFound, ""},
		{"/runs/Discourse-Main/results.json", http.StatusNotFound, ""},
		{"/runs/discourse-main/base/x", http.StatusNotFound, ""},
	} {
		resp, body := get(t, base+tt.path)
		if resp.StatusCode != tt.code {
			t.Errorf("GET %s: %d, want %d\n%s", tt.path, resp.StatusCode, tt.code, body)
			continue
		}
		if tt.code != http.StatusOK {
			if strings.Contains(body, "SQLite") || strings.Contains(body, "outside") || strings.Contains(body, "old") && tt.path == "/runs/deleted-run/summary.md" {
				t.Errorf("GET %s leaked a file: %q", tt.path, body)
			}
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != tt.ct {
			t.Errorf("GET %s: Content-Type %q, want %q", tt.path, ct, tt.ct)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
			t.Errorf("GET %s: Content-Security-Policy %q, want a sandbox", tt.path, csp)
		}
		for _, v := range fixtureEnvValues {
			if strings.Contains(body, v) {
				t.Errorf("GET %s shows the env value %q", tt.path, v)
			}
		}
	}

	// results.json keeps the env's keys, every value replaced; on disk it is as written.
	_, body := get(t, base+"/runs/discourse-main/results.json")
	var res struct {
		TestRun string            `json:"testrun"`
		Env     map[string]string `json:"env"`
		Level   int               `json:"level"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if res.TestRun != "discourse-main" || res.Level != 5 || res.Env["MODE"] != "***" || res.Env["API_TOKEN"] != "***" || len(res.Env) != 2 {
		t.Errorf("served results.json: %+v", res)
	}
	onDisk, err := os.ReadFile(filepath.Join(runs, "discourse-main", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(onDisk), "tr-plain-value") {
		t.Error("the fixture's results.json has no plain env value: the test proves nothing")
	}
}

// badgeOf fetches a badge, parses it as XML and returns its status and accessible label.
func badgeOf(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, body := get(t, url)
	if ct := resp.Header.Get("Content-Type"); ct != "image/svg+xml" {
		t.Errorf("GET %s: Content-Type %q", url, ct)
	}
	var svg struct {
		XMLName xml.Name `xml:"http://www.w3.org/2000/svg svg"`
		Label   string   `xml:"aria-label,attr"`
		Width   int      `xml:"width,attr"`
		Title   string   `xml:"title"`
		Texts   []string `xml:"g>text"`
	}
	dec := xml.NewDecoder(strings.NewReader(body))
	dec.Strict = true
	if err := dec.Decode(&svg); err != nil {
		t.Fatalf("GET %s: not valid SVG: %v\n%s", url, err, body)
	}
	if svg.Title != svg.Label || svg.Width <= 0 || len(svg.Texts) != 4 || svg.Texts[1]+": "+svg.Texts[3] != svg.Label {
		t.Errorf("GET %s: badge %+v", url, svg)
	}
	return resp.StatusCode, svg.Label
}

func TestBadgesAreValidSVGWithTheLevel(t *testing.T) {
	base, _ := serveFixture(t)
	for _, tt := range []struct {
		path  string
		code  int
		label string
	}{
		// discourse-pr4 finished last but tests a pull request; discourse-main is the newest
		// finished run of the target branch.
		{"/badge/discourse.svg", http.StatusOK, "swarmrun: level 5/5"},
		{"/badge/keycloak.svg", http.StatusOK, "swarmrun: no runs"},
		{"/badge/nope.svg", http.StatusNotFound, "swarmrun: unknown recipe"},
		{"/badge/discourse.png", http.StatusNotFound, "swarmrun: not found"},
		{"/badge/..%2fdiscourse.svg", http.StatusNotFound, "swarmrun: not found"},
	} {
		code, label := badgeOf(t, base+tt.path)
		if code != tt.code || label != tt.label {
			t.Errorf("GET %s: %d %q, want %d %q", tt.path, code, label, tt.code, tt.label)
		}
	}
}
