package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newTestServer serves the API over a real listener with temporary data and secrets
// directories and a fixed environment.
func newTestServer(t *testing.T, env map[string]string) (*httptest.Server, *server, *syncBuffer) {
	t.Helper()
	s := &server{
		version:    "7",
		dataDir:    filepath.Join(t.TempDir(), "data"),
		secretsDir: t.TempDir(),
		lookupEnv: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		},
	}
	logs := &syncBuffer{}
	ts := httptest.NewServer(s.handler(logs))
	t.Cleanup(ts.Close)
	return ts, s, logs
}

// syncBuffer lets server goroutines log into a buffer the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// do sends one request and returns status and body.
func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestHandlers(t *testing.T) {
	ts, s, _ := newTestServer(t, map[string]string{"GREETING": "hello", "EMPTY": ""})
	if err := os.WriteFile(filepath.Join(s.secretsDir, "token"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.secretsDir, "blank"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("s3cret"))
	tokenSum := hex.EncodeToString(sum[:]) + "\n"

	steps := []struct {
		method, path, body string
		wantStatus         int
		wantBody           string
	}{
		{"GET", "/", "", 200, "7\n"},
		{"GET", "/version", "", 200, "7\n"},
		{"HEAD", "/version", "", 200, ""},
		{"GET", "/healthz", "", 200, "ok\n"},
		{"GET", "/nope", "", 404, "404 page not found\n"},
		{"POST", "/version", "", 405, "Method Not Allowed\n"},
		{"GET", "/data/marker", "", 404, "not found\n"},
		{"PUT", "/data/marker", "v1", 204, ""},
		{"GET", "/data/marker", "", 200, "v1"},
		{"PUT", "/data/marker", "v2", 204, ""},
		{"GET", "/data/marker", "", 200, "v2"},
		{"PUT", "/data/a%2Fb", "x", 400, "bad name\n"},
		{"PUT", "/data/..x", "x", 400, "bad name\n"},
		{"GET", "/data/%2E%2E", "", 400, "bad name\n"},
		{"GET", "/env/GREETING", "", 200, "hello\n"},
		{"GET", "/env/EMPTY", "", 200, "\n"},
		{"GET", "/env/MISSING", "", 404, "not set\n"},
		{"GET", "/secret/token", "", 200, tokenSum},
		{"GET", "/secret/blank", "", 404, "no such secret\n"},
		{"GET", "/secret/absent", "", 404, "no such secret\n"},
		{"GET", "/secret/%2E%2E", "", 400, "bad name\n"},
	}
	for _, st := range steps {
		status, body := do(t, st.method, ts.URL+st.path, st.body)
		if status != st.wantStatus || body != st.wantBody {
			t.Errorf("%s %s = %d %q, want %d %q", st.method, st.path, status, body, st.wantStatus, st.wantBody)
		}
	}
	entries, err := os.ReadDir(s.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "marker" {
		t.Errorf("data dir holds %v, want only marker (no temp files, nothing escaped)", entries)
	}
}

func TestHealthzUnhealthy(t *testing.T) {
	ts, _, _ := newTestServer(t, map[string]string{"PROBE_UNHEALTHY": "1"})
	if status, _ := do(t, "GET", ts.URL+"/healthz", ""); status != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", status)
	}
}

func TestRequestLog(t *testing.T) {
	ts, _, logs := newTestServer(t, nil)
	do(t, "GET", ts.URL+"/data/none", "")
	do(t, "GET", ts.URL+"/healthz", "")
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "GET /data/none 404") || !strings.Contains(lines[1], "GET /healthz 200") {
		t.Errorf("log lines %q, want one per request with method, path and status", lines)
	}
}

func TestRunHealth(t *testing.T) {
	good, _, _ := newTestServer(t, nil)
	bad, _, _ := newTestServer(t, map[string]string{"PROBE_UNHEALTHY": "1"})
	tests := []struct {
		name, url string
		want      int
	}{
		{"healthy", good.URL + "/healthz", 0},
		{"unhealthy", bad.URL + "/healthz", 1},
		{"not found", good.URL + "/missing", 1},
		{"refused", "http://127.0.0.1:1/healthz", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runHealth(t.Context(), tt.url, io.Discard); got != tt.want {
				t.Errorf("runHealth = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRunHealthTimesOut(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	start := time.Now()
	if got := runHealth(t.Context(), hang.URL, io.Discard); got != 1 {
		t.Errorf("runHealth = %d, want 1", got)
	}
	if d := time.Since(start); d > healthTimeout+time.Second {
		t.Errorf("runHealth took %s, want about %s", d, healthTimeout)
	}
}

func TestRunCheck(t *testing.T) {
	ts, _, _ := newTestServer(t, nil)
	value := "hello"
	tests := []struct {
		name string
		url  string
		opts checkOptions
		want int
	}{
		{"status", ts.URL + "/healthz", checkOptions{expectStatus: 200}, 0},
		{"contains", ts.URL + "/version", checkOptions{expectStatus: 200, contains: "7"}, 0},
		{"wrong body", ts.URL + "/version", checkOptions{expectStatus: 200, contains: "8"}, 1},
		{"expected 404", ts.URL + "/data/none", checkOptions{expectStatus: 404}, 0},
		{"put", ts.URL + "/data/k", checkOptions{expectStatus: 204, put: &value}, 0},
		{"get after put", ts.URL + "/data/k", checkOptions{expectStatus: 200, contains: "hello"}, 0},
		{"refused", "http://127.0.0.1:1/", checkOptions{expectStatus: 200}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.attempts, tt.opts.interval = 2, time.Millisecond
			var out bytes.Buffer
			if got := runCheck(t.Context(), tt.url, tt.opts, &out); got != tt.want {
				t.Errorf("runCheck = %d, want %d; output:\n%s", got, tt.want, out.String())
			}
		})
	}
}

// TestRunCheckRetries proves a check outlasts a slow start (DNS for tasks.<svc> lags).
func TestRunCheckRetries(t *testing.T) {
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) < 3 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready")
	}))
	t.Cleanup(ts.Close)
	var out bytes.Buffer
	got := runCheck(t.Context(), ts.URL, checkOptions{expectStatus: 200, contains: "ready", attempts: 5, interval: time.Millisecond}, &out)
	if n := calls.Load(); got != 0 || n != 3 {
		t.Errorf("runCheck = %d after %d calls, want 0 after 3; output:\n%s", got, n, out.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Errorf("printed %d lines, want one per attempt:\n%s", n, out.String())
	}
}

func TestRunModes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
		out  string
	}{
		{"version", []string{"-version"}, 0, "dev\n"},
		{"exit code", []string{"-exit", "3"}, 3, ""},
		{"exit zero", []string{"-exit", "0"}, 0, ""},
		{"exit after", []string{"-exit", "1", "-after", "10ms"}, 1, ""},
		{"sleep", []string{"-sleep", "10ms"}, 0, ""},
		{"two modes", []string{"-exit", "1", "-sleep", "1s"}, 2, ""},
		{"bad flag", []string{"-nope"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if got := run(tt.args, &out, io.Discard); got != tt.want || out.String() != tt.out {
				t.Errorf("run(%q) = %d %q, want %d %q", tt.args, got, out.String(), tt.want, tt.out)
			}
		})
	}
}

func TestParseFlagsEnvDefaults(t *testing.T) {
	t.Setenv("PROBE_LISTEN", ":9999")
	t.Setenv("PROBE_DATA", "/elsewhere")
	cfg, _, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.listen != ":9999" || cfg.dataDir != "/elsewhere" {
		t.Errorf("listen %q data %q, want the PROBE_LISTEN and PROBE_DATA values", cfg.listen, cfg.dataDir)
	}
	cfg, _, err = parseFlags([]string{"-listen", ":1", "-data", "/d"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.listen != ":1" || cfg.dataDir != "/d" {
		t.Errorf("flags must override env: listen %q data %q", cfg.listen, cfg.dataDir)
	}
}

func TestHealthURLArgument(t *testing.T) {
	_, rest, err := parseFlags([]string{"-health", "http://x:1/y"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := healthURL(rest); got != "http://x:1/y" {
		t.Errorf("healthURL = %q", got)
	}
	if got := healthURL(nil); got != defaultHealthURL {
		t.Errorf("healthURL default = %q", got)
	}
}

// TestWaitStops proves a stop request cuts -sleep and -exit waits short.
func TestWaitStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if wait(ctx, time.Hour) {
		t.Error("wait ran to the end despite a cancelled context")
	}
}

// TestRunServerStops proves the server exits 0 on a stop request, as swarm's SIGTERM is.
func TestRunServerStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	var out syncBuffer
	go func() { done <- runServer(ctx, config{listen: "127.0.0.1:0", dataDir: t.TempDir()}, &out, io.Discard) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "listening") {
		if time.Now().After(deadline) {
			t.Fatal("server never announced it was listening")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(out.String(), "probe stopped") {
			t.Errorf("runServer = %d, output %q; want 0 and a stop line", code, out.String())
		}
	case <-time.After(shutdownGrace + time.Second):
		t.Fatal("runServer did not stop")
	}
}
