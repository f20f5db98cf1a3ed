package server_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/internal/testcert"
)

// listenTCP serves st on a fresh loopback port with the token and o, and returns the address.
func listenTCP(t *testing.T, st *store.Store, token string, o server.ServeOptions) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	startServerWith(t, ln, server.New(st, server.Options{Token: token}), o)
	return ln.Addr().String()
}

// slowBody sends a request's headers announcing a 200,000-byte body, and then nothing.
func slowBody(t *testing.T, network, addr, method, path, token string) net.Conn {
	t.Helper()
	conn, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n"
	if token != "" {
		req += "Authorization: Bearer " + token + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	return conn
}

// answerThenEOF reads the server's answer on conn and then waits for the server to close the
// connection, all within limit. It returns the answer and how long the close took.
func answerThenEOF(t *testing.T, conn net.Conn, limit time.Duration) (*http.Response, time.Duration) {
	t.Helper()
	start := time.Now()
	conn.SetReadDeadline(start.Add(limit))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer within %s: %v", limit, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("connection not closed by the server within %s: %v", limit, err)
	}
	return resp, time.Since(start)
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// TestUnauthenticatedBodyIsNeverRead: on TCP, a request without the token is answered 401
// before anything reads its body, with Connection: close, and the connection is closed. A
// client announcing a body it never sends cannot hold the connection.
func TestUnauthenticatedBodyIsNeverRead(t *testing.T) {
	st, _ := serve(t, server.Options{})
	addr := listenTCP(t, st, "s3cret", server.ServeOptions{})
	for _, token := range []string{"", "wrong"} {
		conn := slowBody(t, "tcp", addr, "POST", server.Path(v1alpha1.KindTestRun, "", ""), token)
		resp, took := answerThenEOF(t, conn, 3*time.Second)
		if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
			t.Errorf("token %q: answer %d (Connection: close %t), want 401 with Connection: close", token, resp.StatusCode, resp.Close)
		}
		t.Logf("token %q: 401 and closed in %s", token, took)
	}
}

// TestRefusalReadsNoBody: any answer given without reading the body (the status refusal, an
// unknown route, a body announced too large) closes the connection instead of reading it.
func TestRefusalReadsNoBody(t *testing.T) {
	_, sock := serve(t, server.Options{})
	tests := []struct {
		method, path string
		code         int
	}{
		{"PUT", server.Path(v1alpha1.KindTestRun, "a", "status"), http.StatusForbidden},
		{"POST", "/nowhere", http.StatusNotFound},
		{"POST", server.Path(v1alpha1.KindTestRun, "", ""), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			// MaxBodyBytes is 1 MiB, so the 200,000 bytes are refused only by the test's server.
			sock := sock
			if tt.code == http.StatusRequestEntityTooLarge {
				_, sock = serve(t, server.Options{MaxBodyBytes: 1000})
			}
			conn := slowBody(t, "unix", sock, tt.method, tt.path, "")
			resp, _ := answerThenEOF(t, conn, 3*time.Second)
			if resp.StatusCode != tt.code {
				t.Errorf("answer %d, want %d", resp.StatusCode, tt.code)
			}
		})
	}
}

// TestBodyTimeout: a client with the right to write (the token on TCP, the socket) still gets
// only ReadHeaderTimeout+BodyTimeout to send the request it announced: then a 408, and the
// connection is closed.
func TestBodyTimeout(t *testing.T) {
	const timeout = 500 * time.Millisecond
	o := server.ServeOptions{ReadHeaderTimeout: timeout / 2, BodyTimeout: timeout / 2}
	st, _ := serve(t, server.Options{})
	addr := listenTCP(t, st, "s3cret", o)
	sockDir := shortDir(t)
	ln, err := server.ListenUnix(t.Context(), sockDir+"/b.sock")
	if err != nil {
		t.Fatal(err)
	}
	startServerWith(t, ln, server.New(st, server.Options{}), o)
	for _, c := range []struct{ network, addr, token string }{{"tcp", addr, "s3cret"}, {"unix", sockDir + "/b.sock", ""}} {
		conn := slowBody(t, c.network, c.addr, "POST", server.Path(v1alpha1.KindTestRun, "", ""), c.token)
		io.WriteString(conn, `{"metadata":`)
		resp, took := answerThenEOF(t, conn, timeout+3*time.Second)
		if resp.StatusCode != http.StatusRequestTimeout || took < timeout-100*time.Millisecond {
			t.Errorf("%s: answer %d after %s, want 408 after %s", c.network, resp.StatusCode, took, timeout)
		}
	}
}

// TestWatchOutlivesReadBounds: the bounds are on reading requests only; a watch, a response
// that lasts, keeps streaming well past all of them.
func TestWatchOutlivesReadBounds(t *testing.T) {
	const bound = 200 * time.Millisecond
	st, _ := serve(t, server.Options{})
	addr := listenTCP(t, st, "s3cret", server.ServeOptions{ReadHeaderTimeout: bound, BodyTimeout: bound, IdleTimeout: bound})
	c := newClient(t, "http://"+addr, "s3cret")
	// A write with a body first, so that the watch may reuse a connection that has had a
	// read deadline.
	if _, err := c.Apply(t.Context(), testRun("first", "r")); err != nil {
		t.Fatal(err)
	}
	ch, err := c.Watch(t.Context(), v1alpha1.KindTestRun, st.ResourceVersion())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * bound) // the watch must outlive every bound; nothing to poll for
	if err := st.Create(t.Context(), testRun("late", "r")); err != nil {
		t.Fatal(err)
	}
	select {
	case ev, ok := <-ch:
		if !ok || ev.Object.GetObjectMeta().Name != "late" {
			t.Fatalf("watch event %v (open %t), want ADDED late", ev.Type, ok)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the watch saw nothing")
	}
}

// TestHeaderTimeout: a connection that sends no complete headers is closed after
// ReadHeaderTimeout.
func TestHeaderTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	st, _ := serve(t, server.Options{})
	addr := listenTCP(t, st, "s3cret", server.ServeOptions{ReadHeaderTimeout: timeout})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /healthz HTTP/1.1\r\n")
	start := time.Now()
	conn.SetReadDeadline(start.Add(timeout + 3*time.Second))
	io.Copy(io.Discard, conn)
	if took := time.Since(start); took > timeout+2*time.Second {
		t.Errorf("half-sent headers held the connection for %s", took)
	}
}

// TestMaxConnections: past MaxConnections a listener accepts nothing more until one closes,
// and another listener over the same store answers all the while.
func TestMaxConnections(t *testing.T) {
	st, sock := serve(t, server.Options{})
	addr := listenTCP(t, st, "s3cret", server.ServeOptions{MaxConnections: 2, ReadHeaderTimeout: time.Minute})
	var held []net.Conn
	for range 2 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		held = append(held, conn)
	}
	third, err := net.Dial("tcp", addr) // the kernel accepts it; the server does not
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	io.WriteString(third, "GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n\r\n")
	third.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := third.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a connection past the bound was served: %v", err)
	}
	if err := newClient(t, sock, "").Healthz(t.Context()); err != nil {
		t.Fatalf("the socket does not answer while TCP is full: %v", err)
	}
	held[0].Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after a slot freed: %v, %v", resp, err)
	}
	resp.Body.Close()
}

// TestTLSServing: with a TLS configuration from LoadTLS the API answers over TLS 1.2 or later
// only.
func TestTLSServing(t *testing.T) {
	files := testcert.Write(t, t.TempDir())
	cfg, err := server.LoadTLS(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := serve(t, server.Options{})
	addr := listenTCP(t, st, "s3cret", server.ServeOptions{TLS: cfg})
	pem, err := os.ReadFile(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	get := func(c *tls.Config) error {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: c}}
		req, _ := http.NewRequestWithContext(t.Context(), "GET", "https://"+addr+"/healthz", nil)
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.TLS == nil {
			t.Errorf("healthz over TLS: %d", resp.StatusCode)
		}
		return nil
	}
	if err := get(&tls.Config{RootCAs: pool}); err != nil {
		t.Fatalf("TLS with the CA: %v", err)
	}
	if err := get(&tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 was accepted")
	}
	if err := get(&tls.Config{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("TLS without the CA: %v, want a certificate error", err)
	}
	if _, err := server.LoadTLS(files.Cert, files.Cert); err == nil || !strings.Contains(err.Error(), files.Cert) {
		t.Errorf("LoadTLS with no key: %v, want an error naming the files", err)
	}
}
