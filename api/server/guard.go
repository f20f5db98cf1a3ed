package server

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// drainTimeout is how long the rest of a refused request's body may take to arrive. A client
// that sent its whole body at once has it read at once, and then sees the answer and a clean
// close rather than a reset.
const drainTimeout = time.Second

// closeUnread keeps the server from reading a body nobody wants. A response that starts before
// the request's body was read to its end (a refusal: 401, 403, 404, 413) says "Connection:
// close", and the rest of the body gets at most drainTimeout. Without the header, net/http
// reads up to 256 KiB of an unread body before it sends the answer, so that it can reuse the
// connection, and after the answer it reads that much again before closing: a client that
// announces a body and never sends it would hold the connection until the request's read
// deadline.
func closeUnread(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 { // no body (-1 is a body of unknown length)
			next.ServeHTTP(w, r)
			return
		}
		b := &watchedBody{ReadCloser: r.Body}
		r.Body = b
		next.ServeHTTP(&refusalWriter{ResponseWriter: w, body: b}, r)
	})
}

// watchedBody records how reading the body ended: at its end, or with an error (the read
// deadline).
type watchedBody struct {
	io.ReadCloser
	eof, failed atomic.Bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case errors.Is(err, io.EOF):
		b.eof.Store(true)
	case err != nil:
		b.failed.Store(true)
	}
	return n, err
}

// refusalWriter closes the connection after a response that starts before the body was read.
type refusalWriter struct {
	http.ResponseWriter
	body    *watchedBody
	started bool
}

func (w *refusalWriter) WriteHeader(code int) {
	if !w.started {
		w.started = true
		if !w.body.eof.Load() {
			w.Header().Set("Connection", "close")
			if !w.body.failed.Load() {
				http.NewResponseController(w.ResponseWriter).SetReadDeadline(time.Now().Add(drainTimeout))
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *refusalWriter) Write(p []byte) (int, error) {
	if !w.started {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *refusalWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
