package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/client"
	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/spec"
)

// shortDir is a temporary directory with a short path: unix socket paths are limited to 108
// bytes, which t.TempDir() can exceed.
func shortDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "sr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// serve starts a server over a fresh store on a unix socket and returns the store and the
// socket's path. It stops when the test ends.
func serve(t testing.TB, o server.Options) (*store.Store, string) {
	t.Helper()
	dir := shortDir(t)
	st, err := store.Open(filepath.Join(dir, "store.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "api.sock")
	ln, err := server.ListenUnix(t.Context(), sock)
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, ln, server.New(st, o))
	t.Cleanup(func() { st.Close() })
	return st, sock
}

func startServer(t testing.TB, ln net.Listener, h http.Handler) {
	t.Helper()
	startServerWith(t, ln, h, server.ServeOptions{Grace: time.Second})
}

func startServerWith(t testing.TB, ln net.Listener, h http.Handler, o server.ServeOptions) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.ServeWith(ctx, ln, h, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

func newClient(t testing.TB, addr, token string) *client.Client {
	t.Helper()
	c, err := client.New(addr, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testRun(name, recipe string) *v1alpha1.TestRun {
	return &v1alpha1.TestRun{
		ObjectMeta: v1alpha1.ObjectMeta{Name: name},
		Spec:       v1alpha1.TestRunSpec{Recipe: recipe},
	}
}

func TestSocketIsPrivate(t *testing.T) {
	_, sock := serve(t, server.Options{})
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestListenUnixStaleAndLiveSockets(t *testing.T) {
	_, live := serve(t, server.Options{})
	if _, err := server.ListenUnix(t.Context(), live); err == nil || !strings.Contains(err.Error(), "another server") {
		t.Errorf("listen on a live socket: err = %v, want refusal", err)
	}

	stale := filepath.Join(shortDir(t), "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // leaves the file, as a killed server would
	ln2, err := server.ListenUnix(t.Context(), stale)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	ln2.Close()
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file left after close: %v", err)
	}
}

// Acceptance 5: over TCP, a missing or wrong token gets 401 and changes nothing.
func TestTCPNeedsToken(t *testing.T) {
	st, _ := serve(t, server.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const token = "s3cret-token"
	startServer(t, ln, server.New(st, server.Options{Token: token}))
	addr := "http://" + ln.Addr().String()

	tests := []struct {
		name  string
		token string
	}{{"no token", ""}, {"wrong token", "guess"}, {"prefix of token", "s3cret"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, addr, tt.token)
			_, err := c.Apply(t.Context(), testRun("a", "r"))
			var se *client.StatusError
			if !errors.As(err, &se) || se.Status.Code != http.StatusUnauthorized || se.Status.Reason != server.ReasonUnauthorized {
				t.Fatalf("apply: err = %v, want 401 Unauthorized", err)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error %q shows the token", err)
			}
			if err := c.Healthz(t.Context()); err == nil {
				t.Error("healthz without a valid token answered")
			}
		})
	}
	if objs, _, err := st.List(t.Context(), v1alpha1.KindTestRun); err != nil || len(objs) != 0 {
		t.Fatalf("store after refused requests: %d objects, %v", len(objs), err)
	}

	c := newClient(t, addr, token)
	if _, err := c.Apply(t.Context(), testRun("a", "r")); err != nil {
		t.Fatalf("apply with the token: %v", err)
	}
}

func TestInvalidListsEveryFieldError(t *testing.T) {
	validate := func(_, obj v1alpha1.Object) []spec.Problem {
		tr := obj.(*v1alpha1.TestRun)
		var ps []spec.Problem
		if tr.Spec.Recipe == "" {
			ps = append(ps, spec.Problem{Field: "spec.recipe", Message: "required"})
		}
		if tr.Spec.Teardown != v1alpha1.TeardownAlways {
			ps = append(ps, spec.Problem{Field: "spec.teardown", Message: "want Always"})
		}
		return ps
	}
	st, sock := serve(t, server.Options{Validate: validate})
	c := newClient(t, sock, "")
	tr := testRun("bad", "")
	tr.Spec.Teardown = v1alpha1.TeardownNever
	_, err := c.Apply(t.Context(), tr)
	var se *client.StatusError
	if !errors.As(err, &se) || se.Status.Reason != server.ReasonInvalid || se.Status.Code != http.StatusUnprocessableEntity {
		t.Fatalf("err = %v, want 422 Invalid", err)
	}
	if se.Status.Details == nil || len(se.Status.Details.Causes) != 2 || se.Status.Details.Name != "bad" {
		t.Fatalf("details = %+v, want both causes for bad", se.Status.Details)
	}
	for _, want := range []string{`TestRun "bad"`, "spec.recipe: required", "spec.teardown: want Always"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if !errors.Is(err, store.ErrInvalid) {
		t.Error("Invalid does not match store.ErrInvalid")
	}
	if err := st.Get(t.Context(), "bad", &v1alpha1.TestRun{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("invalid object was stored: %v", err)
	}
}

func TestRequestErrors(t *testing.T) {
	_, sock := serve(t, server.Options{MaxBodyBytes: 1024})
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	big := `{"metadata":{"name":"a","annotations":{"x":"` + strings.Repeat("y", 2048) + `"}},"spec":{"recipe":"r"}}`
	tests := []struct {
		name, method, path, ctype, body string
		code                            int
		reason                          string
	}{
		{"too large", "POST", "/testruns", "application/json", big, 413, server.ReasonTooLarge},
		{"unknown field", "POST", "/testruns", "application/json", `{"metadata":{"name":"a"},"spec":{"recipee":"r"}}`, 400, server.ReasonBadRequest},
		{"name mismatch", "PUT", "/testruns/a", "application/json", `{"metadata":{"name":"b"},"spec":{"recipe":"r"}}`, 422, server.ReasonInvalid},
		{"kind mismatch", "POST", "/testruns", "application/json", `{"kind":"Recipe","metadata":{"name":"a"}}`, 422, server.ReasonInvalid},
		{"apply needs content type", "PATCH", "/testruns/a", "application/json", `{"spec":{"recipe":"r"}}`, 415, server.ReasonUnsupported},
		{"unknown resource", "GET", "/pods", "", "", 404, server.ReasonNotFound},
		{"missing object", "GET", "/testruns/nope", "", "", 404, server.ReasonNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, "http://x"+server.PathPrefix+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var st server.Status
			if err := jsonDecode(resp, &st); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.code || st.Reason != tt.reason || st.Code != tt.code {
				t.Errorf("got %d %s (%q), want %d %s", resp.StatusCode, st.Reason, st.Message, tt.code, tt.reason)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	_, sock := serve(t, server.Options{})
	if err := newClient(t, sock, "").Healthz(t.Context()); err != nil {
		t.Fatal(err)
	}
}
func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

// TestCreateDropsStatus: a client cannot create an object with a status (say, a stack name
// for the controller's teardown to remove); status is written through /status only.
func TestCreateDropsStatus(t *testing.T) {
	st, sock := serve(t, server.Options{})
	c := newClient(t, sock, "")
	tr := testRun("planted", "r")
	tr.Status.Stack = "production"
	tr.Status.Level = 5
	if err := c.Create(t.Context(), tr); err != nil {
		t.Fatal(err)
	}
	var got v1alpha1.TestRun
	if err := st.Get(t.Context(), "planted", &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.Stack != "" || got.Status.Level != 0 {
		t.Errorf("stored status %+v, want none", got.Status)
	}
}
