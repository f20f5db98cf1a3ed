package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/server"
)

// Mounts are served beside the API: on a listener with a token, a public mount answers GET
// and HEAD without it, and nothing else does; a mount that is not public needs the token.
func TestMountsAndTheirAuth(t *testing.T) {
	st, _ := serve(t, server.Options{})
	echo := func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Method+" "+r.PathValue("name"))
	}
	const token = "s3cret-token"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, ln, server.New(st, server.Options{Token: token, Mounts: []server.Mount{
		{Pattern: "GET /page/{name}", Handler: http.HandlerFunc(echo), Public: true},
		{Pattern: "/anything/{name}", Handler: http.HandlerFunc(echo), Public: true},
		{Pattern: "GET /private/{name}", Handler: http.HandlerFunc(echo)},
	}}))
	base := "http://" + ln.Addr().String()

	tests := []struct {
		method, path, token string
		code                int
		body                string
	}{
		{"GET", "/page/a", "", http.StatusOK, "GET a"},
		{"HEAD", "/page/a", "", http.StatusOK, ""},
		{"GET", "/page/a", token, http.StatusOK, "GET a"},
		// A public mount that takes every method still answers only GET and HEAD without the token.
		{"GET", "/anything/b", "", http.StatusOK, "GET b"},
		{"POST", "/anything/b", "", http.StatusUnauthorized, ""},
		{"DELETE", "/anything/b", "", http.StatusUnauthorized, ""},
		{"POST", "/anything/b", token, http.StatusOK, "POST b"},
		{"GET", "/private/c", "", http.StatusUnauthorized, ""},
		{"GET", "/private/c", "guess", http.StatusUnauthorized, ""},
		{"GET", "/private/c", token, http.StatusOK, "GET c"},
		// The API stays behind the token, and unknown paths too.
		{"GET", server.PathPrefix + "/testruns", "", http.StatusUnauthorized, ""},
		{"GET", "/nowhere", "", http.StatusUnauthorized, ""},
		{"GET", "/nowhere", token, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		req, err := http.NewRequestWithContext(t.Context(), tt.method, base+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("%s %s (token %q): %d, want %d", tt.method, tt.path, tt.token, resp.StatusCode, tt.code)
		}
		if tt.body != "" && string(b) != tt.body {
			t.Errorf("%s %s: body %q, want %q", tt.method, tt.path, b, tt.body)
		}
		if resp.StatusCode == http.StatusUnauthorized && strings.Contains(string(b), "GET") {
			t.Errorf("%s %s: a refused request reached the mount: %q", tt.method, tt.path, b)
		}
	}
}

// On the socket (no token) every mount is served.
func TestMountsOnTheSocket(t *testing.T) {
	_, sock := serve(t, server.Options{Mounts: []server.Mount{
		{Pattern: "GET /private/{name}", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello "+r.PathValue("name"))
		})},
	}})
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	resp, err := c.Get("http://swarmrun/private/x")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != "hello x" {
		t.Errorf("GET /private/x on the socket: %d %q", resp.StatusCode, b)
	}
}
