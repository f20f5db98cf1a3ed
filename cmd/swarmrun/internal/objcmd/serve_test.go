package objcmd_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/objcmd"
	"github.com/swarmrun/swarmrun/forge"
	"github.com/swarmrun/swarmrun/internal/testcert"
	"github.com/swarmrun/swarmrun/trigger"
)

// tokenFile writes a token file with mode 0600 and returns its path.
func tokenFile(t *testing.T, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeListenFlags: TCP is served over TLS, or as plain HTTP only when asked with
// --insecure; anything else refuses to start with exit code 2.
func TestServeListenFlags(t *testing.T) {
	dir := t.TempDir()
	tok := tokenFile(t, "s3cret")
	files := testcert.Write(t, dir)
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no token", []string{"--listen", "127.0.0.1:0"}, "--listen needs a token"},
		{"neither TLS nor insecure", []string{"--listen", "127.0.0.1:0", "--token-file", tok}, "--listen 127.0.0.1:0 needs TLS: give --tls-cert and --tls-key, or --insecure"},
		{"cert without key", []string{"--listen", "127.0.0.1:0", "--token-file", tok, "--tls-cert", files.Cert}, "--tls-cert and --tls-key go together"},
		{"TLS and insecure", []string{"--listen", "127.0.0.1:0", "--token-file", tok, "--tls-cert", files.Cert, "--tls-key", files.Key, "--insecure"}, "not both"},
		{"bad key", []string{"--listen", "127.0.0.1:0", "--token-file", tok, "--tls-cert", files.Cert, "--tls-key", files.Cert}, "load TLS certificate"},
		{"TLS without listen", []string{"--tls-cert", files.Cert, "--tls-key", files.Key}, "apply to --listen, which is not set"},
		{"public status without listen", []string{"--public-status"}, "apply to --listen, which is not set"},
		{"public metrics without listen", []string{"--public-metrics"}, "apply to --listen, which is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := run(t, dir, append([]string{"serve"}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d (want 2), stderr %q (want %q)", code, errOut, tt.msg)
			}
		})
	}
}

// TestServeTLSRoundTrip: serve --listen with a certificate; a client given the CA file talks
// to it, and one without gets a clear error.
func TestServeTLSRoundTrip(t *testing.T) {
	files := testcert.Write(t, t.TempDir())
	tok := tokenFile(t, "s3cret")
	s := startServe(t, "--listen", "127.0.0.1:0", "--tls-cert", files.Cert, "--tls-key", files.Key, "--token-file", tok)
	if strings.Contains(s.log.String(), "s3cret") {
		t.Errorf("serve logged the token:\n%s", s.log.String())
	}
	url := "https://" + s.tcp
	in := "apiVersion: swarmrun.dev/v1alpha1\nkind: TestRun\nmetadata: {name: over-tls}\nspec: {recipe: demo}\n"
	out, errOut, code := runIn(t, s.dir, in, "apply", "-f", "-", "--server", url, "--ca-file", files.CA, "--token-file", tok)
	if code != 0 || out != "testrun.swarmrun.dev/over-tls created\n" {
		t.Fatalf("apply over TLS with the CA (exit %d):\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, s.dir, "get", "testruns", "--server", url, "--ca-file", files.CA, "--token-file", tok)
	if code != 0 || !strings.Contains(out, "over-tls") {
		t.Fatalf("get over TLS with the CA (exit %d):\n%s%s", code, out, errOut)
	}
	_, errOut, code = run(t, s.dir, "get", "testruns", "--server", url, "--token-file", tok)
	if code != 2 || !strings.Contains(errOut, "certificate") || !strings.Contains(errOut, "--ca-file") {
		t.Errorf("get over TLS without the CA: exit %d, stderr %q; want 2 and a certificate error naming --ca-file", code, errOut)
	}
	_, errOut, code = run(t, s.dir, "get", "testruns", "--server", url, "--ca-file", files.CA)
	if code != 2 || !strings.Contains(errOut, "bearer token") {
		t.Errorf("get over TLS without the token: exit %d, stderr %q; want 2 and 401", code, errOut)
	}
}

// TestServeInsecureWarns: --insecure serves plain HTTP and says so in the log.
func TestServeInsecureWarns(t *testing.T) {
	s := startServe(t, "--listen", "127.0.0.1:0", "--insecure", "--token-file", tokenFile(t, "s3cret"))
	if !strings.Contains(s.log.String(), "WARNING: --insecure") {
		t.Errorf("no warning in the log:\n%s", s.log.String())
	}
}

// raiseFileLimit makes room for n more open files in this process, raising the soft
// RLIMIT_NOFILE up to the hard one if it is too low.
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Fatalf("RLIMIT_NOFILE hard limit %d is below the %d files this test needs", lim.Max, n)
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
}

// TestSlowBodyAttack: 2,000 TCP connections without a token each announce a 200,000-byte
// body and send none. The server answers each 401 and closes it well within its read bounds,
// and all the while `swarmrun get` over the unix socket answers within a second.
func TestSlowBodyAttack(t *testing.T) {
	const (
		attackers = 2000
		maxGet    = time.Second
	)
	// The server closes an unauthenticated connection after its headers, and a refused body
	// gets a second; the rest is waiting for one of the 512 slots. It must never come near
	// the body timeout.
	closeBound := server.DefaultReadHeaderTimeout + 10*time.Second
	raiseFileLimit(t, attackers+server.DefaultMaxConnections+256)
	s := startServe(t, "--listen", "127.0.0.1:0", "--insecure", "--token-file", tokenFile(t, "s3cret"))
	if err := apiClient(t, s.dir).Create(t.Context(), &v1alpha1.TestRun{ObjectMeta: v1alpha1.ObjectMeta{Name: "still-there"}, Spec: v1alpha1.TestRunSpec{Recipe: "demo"}}); err != nil {
		t.Fatal(err)
	}
	request := "POST " + server.Path(v1alpha1.KindTestRun, "", "") + " HTTP/1.1\r\nHost: " + s.tcp +
		"\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n"

	var (
		open      atomic.Int64 // attack connections the server has not closed yet
		mu        sync.Mutex
		closeTook []time.Duration
		failures  []string
		wg        sync.WaitGroup
	)
	fail := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, msg)
	}
	start := time.Now()
	dialers := make(chan struct{}, 64)
	for i := range attackers {
		dialers <- struct{}{}
		open.Add(1)
		wg.Go(func() {
			defer open.Add(-1)
			d := net.Dialer{Timeout: 10 * time.Second}
			conn, err := d.DialContext(t.Context(), "tcp", s.tcp)
			<-dialers
			if err != nil {
				fail(err.Error())
				return
			}
			defer conn.Close()
			sent := time.Now()
			conn.SetDeadline(sent.Add(closeBound))
			if _, err := io.WriteString(conn, request); err != nil {
				fail(err.Error())
				return
			}
			_, err = io.Copy(io.Discard, conn) // nil at EOF
			took := time.Since(sent)
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				fail(fmt.Sprintf("attack connection %d still open after %s", i, closeBound))
			case err != nil && !strings.Contains(err.Error(), "connection reset"):
				fail(err.Error())
			}
			mu.Lock()
			closeTook = append(closeTook, took)
			mu.Unlock()
		})
	}

	// Throughout the attack, get over the socket, as an operator would.
	var latencies []time.Duration
	during := 0
	for open.Load() > 0 {
		t0 := time.Now()
		out, errOut, code := run(t, s.dir, "get", "testruns")
		lat := time.Since(t0)
		if code != 0 || !strings.Contains(out, "still-there") {
			t.Errorf("get during the attack (exit %d):\n%s%s", code, out, errOut)
		}
		if open.Load() > 0 {
			during++
			latencies = append(latencies, lat)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	total := time.Since(start)

	if len(failures) > 0 {
		t.Errorf("%d of %d attack connections failed; first: %s", len(failures), attackers, failures[0])
	}
	if during < 5 {
		t.Errorf("only %d gets ran during the attack; want at least 5", during)
	}
	var maxLat, maxClose time.Duration
	for _, l := range latencies {
		maxLat = max(maxLat, l)
	}
	for _, c := range closeTook {
		maxClose = max(maxClose, c)
	}
	if maxLat > maxGet {
		t.Errorf("slowest get during the attack took %s, want under %s", maxLat, maxGet)
	}
	t.Logf("%d attack connections closed by the server within %s of their headers (all within %s); %d gets during the attack, slowest %s",
		len(closeTook), maxClose.Round(time.Millisecond), total.Round(time.Millisecond), during, maxLat.Round(time.Millisecond))
}

// TestServeTakesWebhooksWithoutTheToken: serve mounts the webhook endpoint on its listeners
// ahead of the bearer token, which every other path still needs; a delivery is judged by its
// signature instead.
func TestServeTakesWebhooksWithoutTheToken(t *testing.T) {
	secrets := t.TempDir()
	hooks := func(s objcmd.Served) (http.Handler, error) {
		return trigger.Webhook(trigger.WebhookOptions{Objects: s.Store, SecretsDir: secrets})
	}
	s := startServeHooks(t, hooks, "--listen", "127.0.0.1:0", "--insecure", "--token-file", tokenFile(t, "s3cret"))
	repo := &v1alpha1.Repository{ObjectMeta: v1alpha1.ObjectMeta{Name: "demo"}, Spec: v1alpha1.RepositorySpec{
		Forge: v1alpha1.ForgeGitea, URL: "https://git.example.org", Owner: "recipes", Repo: "demo", Recipe: "demo",
		TokenFile: "token", WebhookSecretFile: "secret", Trigger: v1alpha1.RepositoryTrigger{Users: []string{"alice"}}}}
	repo.Default()
	if err := s.st.Create(t.Context(), repo); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(secrets, "git.example.org"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secrets, "git.example.org", "secret"), []byte("hook-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	post := func(path, signature string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+s.tcp+path, strings.NewReader(`{"action":"created"}`))
		req.Header.Set(forge.HeaderGiteaSignature, signature)
		req.Header.Set(forge.HeaderGiteaDelivery, "d1")
		req.Header.Set(forge.HeaderGiteaEvent, "push")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post("/apis/swarmrun.dev/v1alpha1/repositories", ""); code != http.StatusUnauthorized || !strings.Contains(body, "bearer token") {
		t.Errorf("the API without the token: %d %s, want 401", code, body)
	}
	if code, body := post("/hooks/forge/demo", forge.Sign([]byte(`{"action":"created"}`), []byte("guess"))); code != http.StatusUnauthorized || strings.Contains(body, "bearer") {
		t.Errorf("a badly signed delivery: %d %s, want the webhook's 401", code, body)
	}
	if code, body := post("/hooks/forge/demo", forge.Sign([]byte(`{"action":"created"}`), []byte("hook-secret"))); code != http.StatusAccepted {
		t.Errorf("a signed delivery: %d %s, want 202", code, body)
	}
	var got v1alpha1.Repository
	if err := s.st.Get(t.Context(), "demo", &got); err != nil || len(got.Status.Deliveries) != 1 {
		t.Errorf("deliveries recorded: %v, %v; want the one signed delivery", got.Status.Deliveries, err)
	}
}
