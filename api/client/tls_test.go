package client_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/client"
	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/internal/testcert"
)

// TestTLSWithCAFile: over https the client trusts the CA file it is given, and without it the
// server's self-signed certificate is refused.
func TestTLSWithCAFile(t *testing.T) {
	dir := t.TempDir()
	files := testcert.Write(t, dir)
	cfg, err := server.LoadTLS(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "store.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- server.ServeWith(ctx, ln, server.New(st, server.Options{Token: "t0ken"}), server.ServeOptions{Grace: time.Second, TLS: cfg})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	addr := "https://" + ln.Addr().String()

	c, err := client.NewWithOptions(addr, client.Options{Token: "t0ken", CAFile: files.CA})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Healthz(t.Context()); err != nil {
		t.Fatalf("with the CA file: %v", err)
	}

	c, err = client.NewWithOptions(addr, client.Options{Token: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Healthz(t.Context()); err == nil || !strings.Contains(err.Error(), "certificate") || strings.Contains(err.Error(), "t0ken") {
		t.Errorf("without the CA file: %v, want a certificate error without the token", err)
	}

	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	for _, f := range []string{notPEM, filepath.Join(dir, "missing.pem")} {
		if _, err := client.NewWithOptions(addr, client.Options{CAFile: f}); err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("CA file %s: %v, want an error naming it", f, err)
		}
	}
}
