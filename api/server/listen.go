package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/net/netutil"
)

// ListenUnix listens on a unix socket at path with mode 0600. A socket file left by a server
// that died is removed, but only after checking that nothing answers on it; a live server
// there is an error. The socket is created under a temporary name and renamed into place, so
// it is never reachable with a wider mode.
func ListenUnix(ctx context.Context, path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if _, err := os.Stat(path); err == nil {
		d := net.Dialer{Timeout: time.Second}
		if c, err := d.DialContext(ctx, "unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("listen on %s: another server is answering there", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket: %w", err)
		}
	}
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	os.Remove(tmp)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	ul := ln.(*net.UnixListener)
	// The file is renamed, so the listener must not unlink the temporary name on close; the
	// returned listener removes the real path instead.
	ul.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ul.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		ul.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	return &unixListener{UnixListener: ul, path: path}, nil
}

type unixListener struct {
	*net.UnixListener
	path string
}

// Addr is the socket's real path, not the temporary name it was created under.
func (l *unixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

// Close stops listening and removes the socket file.
func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	os.Remove(l.path)
	return err
}

// Defaults of ServeOptions. Reading a request is bounded; answering it is not, because a
// watch is a response that lasts as long as the client wants it.
const (
	// DefaultReadHeaderTimeout bounds the wait for a request's headers (and, on TLS, the
	// handshake) from the moment a connection is accepted or, on a kept-alive connection,
	// from the next request's first bytes.
	DefaultReadHeaderTimeout = 5 * time.Second
	// DefaultBodyTimeout bounds the wait for a request's body, from its headers to its last
	// byte: 1 MiB (MaxBodyBytes) at 35 KiB/s. A request that has not arrived whole within
	// ReadHeaderTimeout+BodyTimeout is answered 408 and its connection closed.
	DefaultBodyTimeout = 30 * time.Second
	// DefaultIdleTimeout closes a kept-alive connection that sends no new request.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultMaxConnections bounds a listener's open connections; more wait in the kernel's
	// accept queue. Each listener has its own bound, so a flood on TCP cannot starve the
	// unix socket.
	DefaultMaxConnections = 512
)

// ServeOptions bound how a listener is served. Zero fields take the defaults.
type ServeOptions struct {
	// Grace is how long shutdown waits for requests in flight. Default 10s.
	Grace time.Duration
	// ReadHeaderTimeout: see DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
	// BodyTimeout: see DefaultBodyTimeout. The read deadline it gives is lifted once the body
	// has been read, so it never cuts a response.
	BodyTimeout time.Duration
	// IdleTimeout: see DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxConnections: see DefaultMaxConnections.
	MaxConnections int
	// TLS, when set, serves TLS with this configuration (see LoadTLS).
	TLS *tls.Config
}

func (o *ServeOptions) defaults() {
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = DefaultBodyTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
}

// Serve is ServeWith with the default bounds and the given shutdown grace.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	return ServeWith(ctx, ln, h, ServeOptions{Grace: grace})
}

// ServeWith serves h on ln until ctx ends, then shuts down: it stops accepting, ends open
// watches and waits up to o.Grace for requests in flight. The request contexts carry ctx's
// logger. At most o.MaxConnections connections are open at once, and a client gets
// o.ReadHeaderTimeout for its headers and o.BodyTimeout more for its body; a response sent
// before the body was read closes the connection rather than read the rest (see closeUnread).
func ServeWith(ctx context.Context, ln net.Listener, h http.Handler, o ServeOptions) error {
	o.defaults()
	addr := ln.Addr()
	ln = netutil.LimitListener(ln, o.MaxConnections)
	if o.TLS != nil {
		ln = tls.NewListener(ln, o.TLS)
	}
	// Requests get a context that ends at shutdown, so that watch streams return and Shutdown
	// need not wait for them.
	base, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	srv := &http.Server{
		Handler:     closeUnread(h),
		BaseContext: func(net.Listener) context.Context { return base },
		// ReadTimeout bounds reading the whole request. net/http lifts it when the body has
		// been read (it then reads only to notice the client going away), so a watch lasts.
		// There is no WriteTimeout: it would cut every watch.
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadHeaderTimeout + o.BodyTimeout,
		IdleTimeout:       o.IdleTimeout,
		// Only HTTP/1.1 is offered on TLS (see LoadTLS); an empty map keeps net/http from
		// adding HTTP/2, whose timeouts and streams these bounds do not cover.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		// What net/http reports about a connection (a failed TLS handshake, a bad request
		// line) is the client's problem, and a flood of them must not flood the log.
		ErrorLog: log.New(debugWriter{logr.FromContextOrDiscard(ctx).V(1)}, "", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logr.FromContextOrDiscard(ctx).Info("serving API", "address", addr.String(), "tls", o.TLS != nil, "maxConnections", o.MaxConnections)
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", addr, err)
	case <-ctx.Done():
	}
	cancel()
	sctx, stop := context.WithTimeout(context.WithoutCancel(ctx), o.Grace)
	defer stop()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down %s: %w", addr, err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", addr, err)
	}
	return nil
}

// debugWriter turns the lines of net/http's error log into debug log entries.
type debugWriter struct{ log logr.Logger }

func (d debugWriter) Write(p []byte) (int, error) {
	d.log.Info("http server", "message", strings.TrimSpace(string(p)))
	return len(p), nil
}
