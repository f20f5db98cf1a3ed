package objcmd_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// get fetches path from serve over TCP (with the token when given) or, with tcp empty, over
// its socket.
func fetch(t *testing.T, s served, method, path, token string) (int, string, http.Header) {
	t.Helper()
	c, base := http.DefaultClient, "http://"+s.tcp
	if s.tcp == "" || token == "socket" {
		sock := filepath.Join(s.dir, "swarmrun.sock")
		c = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
		base, token = "http://swarmrun", ""
	}
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestServeStatusPageAndMetrics: serve serves the status page, the badges and /metrics on
// its socket, and on TCP behind the token unless --public-status or --public-metrics says
// otherwise; without the token, only reads of what was made public are answered.
func TestServeStatusPageAndMetrics(t *testing.T) {
	const token = "s3cret"
	tok := tokenFile(t, token)
	for _, tt := range []struct {
		name                        string
		flags                       []string
		statusPublic, metricsPublic bool
	}{
		{"private", nil, false, false},
		{"public status", []string{"--public-status"}, true, false},
		{"public metrics", []string{"--public-metrics"}, false, true},
		{"both public", []string{"--public-status", "--public-metrics"}, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startServe(t, append([]string{"--listen", "127.0.0.1:0", "--insecure", "--token-file", tok}, tt.flags...)...)
			checks := []struct {
				path   string
				public bool
				code   int
				want   string
			}{
				{"/", tt.statusPublic, http.StatusOK, "<h1>swarmrun status</h1>"},
				{"/badge/nope.svg", tt.statusPublic, http.StatusNotFound, "unknown recipe"},
				{"/runs/nope/results.json", tt.statusPublic, http.StatusNotFound, ""},
				{"/metrics", tt.metricsPublic, http.StatusOK, "swarmrun_promotions_total"},
			}
			for _, c := range checks {
				for _, via := range []string{"socket", token, ""} {
					code, body, _ := fetch(t, s, http.MethodGet, c.path, via)
					want := c.code
					if via == "" && !c.public {
						want = http.StatusUnauthorized
					}
					if code != want || want == c.code && !strings.Contains(body, c.want) {
						t.Errorf("GET %s via %q: %d, want %d with %q\n%.300s", c.path, via, code, want, c.want, body)
					}
				}
			}
			// Without the token, only GET and HEAD reach the page.
			if code, _, _ := fetch(t, s, http.MethodPost, "/", ""); code != http.StatusUnauthorized {
				t.Errorf("POST / without the token: %d, want 401", code)
			}
			// The API stays behind the token whatever is public.
			if code, _, _ := fetch(t, s, http.MethodGet, "/apis/swarmrun.dev/v1alpha1/testruns", ""); code != http.StatusUnauthorized {
				t.Errorf("GET testruns without the token: %d, want 401", code)
			}
		})
	}
}

// The registry serve gives its runners is the one /metrics serves.
func TestServeMetricsServeTheRunnersRegistry(t *testing.T) {
	s := startServe(t)
	s.shared.Metrics.RunFinished("Succeeded", 4)
	s.shared.Metrics.Collected("stack", false)
	_, body, h := fetch(t, s, http.MethodGet, "/metrics", "socket")
	for _, want := range []string{
		`swarmrun_testruns_finished_total{reason="Succeeded"} 1`,
		`swarmrun_testrun_level_bucket{le="4"} 1`,
		`swarmrun_gc_removed_total{kind="stack"} 1`,
		"go_goroutines",
		"process_open_fds",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("/metrics Content-Type %q", ct)
	}
}
