package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// Client talks to one swarmrun API server. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// idleConnTimeout drops a kept-alive connection before the server would (server.
// DefaultIdleTimeout), so that a request is never sent on a connection being closed.
const idleConnTimeout = 30 * time.Second

// Options configure a Client.
type Options struct {
	// Token, when set, is sent as a bearer token.
	Token string
	// CAFile, when set, is a PEM file of the certificates an https:// server's certificate
	// must chain to, in place of the system's roots. Other addresses ignore it.
	CAFile string
}

// New returns a client of the server at addr with only a token: NewWithOptions with
// Options{Token: token}.
func New(addr, token string) (*Client, error) {
	return NewWithOptions(addr, Options{Token: token})
}

// NewWithOptions returns a client of the server at addr: a unix socket path (or unix://PATH),
// or an http:// or https:// URL. It speaks TLS 1.2 or later to an https:// server.
func NewWithOptions(addr string, o Options) (*Client, error) {
	c := &Client{token: o.Token}
	switch {
	case addr == "":
		return nil, errors.New("no API server address")
	case strings.HasPrefix(addr, "http://"), strings.HasPrefix(addr, "https://"):
		u, err := url.Parse(addr)
		if err != nil {
			return nil, fmt.Errorf("API server address: %w", err)
		}
		c.base = strings.TrimSuffix(u.String(), "/")
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.IdleConnTimeout = idleConnTimeout
		if u.Scheme == "https" {
			if tr.TLSClientConfig, err = tlsConfig(o.CAFile); err != nil {
				return nil, err
			}
		}
		c.hc = &http.Client{Transport: tr}
	default:
		path := strings.TrimPrefix(addr, "unix://")
		tr := &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", path)
			},
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     idleConnTimeout,
		}
		// The host is a placeholder: the transport always dials the socket.
		c.base = "http://swarmrun"
		c.hc = &http.Client{Transport: tr}
	}
	return c, nil
}

// tlsConfig trusts the certificates in caFile, or the system's roots when it is empty.
func tlsConfig(caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	cfg.RootCAs = x509.NewCertPool()
	if !cfg.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
	}
	return cfg, nil
}

// StatusError is an error the API server answered with.
type StatusError struct {
	Status server.Status
}

// Error returns the server's message.
func (e *StatusError) Error() string { return e.Status.Message }

// Is matches the store's sentinel errors by the status reason, so callers branch the same way
// on a remote error as on a local one.
func (e *StatusError) Is(target error) bool {
	switch e.Status.Reason {
	case server.ReasonNotFound:
		return target == store.ErrNotFound
	case server.ReasonAlreadyExists:
		return target == store.ErrAlreadyExists
	case server.ReasonConflict:
		return target == store.ErrConflict
	case server.ReasonInvalid, server.ReasonBadRequest:
		return target == store.ErrInvalid
	}
	return false
}

// Healthz checks that the server answers.
func (c *Client) Healthz(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", "", nil, nil, nil)
}

// Create creates obj and fills it with what was stored.
func (c *Client) Create(ctx context.Context, obj v1alpha1.Object) error {
	kind, err := store.KindOf(obj)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, server.Path(kind, "", ""), "", obj, obj, nil)
}

// Get fills into with the object of into's kind named name.
func (c *Client) Get(ctx context.Context, name string, into v1alpha1.Object) error {
	kind, err := store.KindOf(into)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodGet, server.Path(kind, name, ""), "", nil, into, nil)
}

// List returns every object of kind and the resourceVersion to watch from.
func (c *Client) List(ctx context.Context, kind string) ([]v1alpha1.Object, string, error) {
	switch kind {
	case v1alpha1.KindTestRun:
		return list[v1alpha1.TestRun](ctx, c, kind)
	case v1alpha1.KindRecipe:
		return list[v1alpha1.Recipe](ctx, c, kind)
	case v1alpha1.KindRepository:
		return list[v1alpha1.Repository](ctx, c, kind)
	}
	_, err := store.NewObject(kind)
	return nil, "", err
}

// list decodes a list straight into its item type, which is faster than decoding each item
// on its own.
func list[T any, PT interface {
	*T
	v1alpha1.Object
}](ctx context.Context, c *Client, kind string) ([]v1alpha1.Object, string, error) {
	var l struct {
		Metadata v1alpha1.ListMeta `json:"metadata"`
		Items    []T               `json:"items"`
	}
	if err := c.do(ctx, http.MethodGet, server.Path(kind, "", ""), "", nil, &l, nil); err != nil {
		return nil, "", err
	}
	out := make([]v1alpha1.Object, len(l.Items))
	for i := range l.Items {
		out[i] = PT(&l.Items[i])
	}
	return out, l.Metadata.ResourceVersion, nil
}

// Update replaces obj's spec and metadata (see store.Store.Update) and fills it with the
// result.
func (c *Client) Update(ctx context.Context, obj v1alpha1.Object) error {
	kind, err := store.KindOf(obj)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, server.Path(kind, obj.GetObjectMeta().Name, ""), "", obj, obj, nil)
}

// Apply creates obj or replaces its spec, labels and annotations, server-side, and says which.
func (c *Client) Apply(ctx context.Context, obj v1alpha1.Object) (store.ApplyResult, error) {
	kind, err := store.KindOf(obj)
	if err != nil {
		return "", err
	}
	var h http.Header
	err = c.do(ctx, http.MethodPatch, server.Path(kind, obj.GetObjectMeta().Name, ""), server.ApplyContentType, obj, obj, &h)
	if err != nil {
		return "", err
	}
	return store.ApplyResult(h.Get(server.ApplyResultHeader)), nil
}

// Delete deletes (or, with finalizers, marks for deletion) an object and returns its last
// state.
func (c *Client) Delete(ctx context.Context, kind, name string) (v1alpha1.Object, error) {
	obj, err := store.NewObject(kind)
	if err != nil {
		return nil, err
	}
	if err := c.do(ctx, http.MethodDelete, server.Path(kind, name, ""), "", nil, obj, nil); err != nil {
		return nil, err
	}
	return obj, nil
}

// RecordEvent adds an event to the object ref names.
func (c *Client) RecordEvent(ctx context.Context, ref v1alpha1.ObjectReference, typ v1alpha1.EventType, reason, message string) error {
	req := server.EventRequest{Type: typ, Reason: reason, Message: message}
	return c.do(ctx, http.MethodPost, server.Path(ref.Kind, ref.Name, "events"), "", &req, nil, nil)
}

// Events returns an object's events, oldest first.
func (c *Client) Events(ctx context.Context, kind, name string) ([]v1alpha1.Event, error) {
	var list v1alpha1.EventList
	if err := c.do(ctx, http.MethodGet, server.Path(kind, name, "events"), "", nil, &list, nil); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// AllEvents returns the events of every object, oldest first by their last occurrence.
func (c *Client) AllEvents(ctx context.Context) ([]v1alpha1.Event, error) {
	var list v1alpha1.EventList
	if err := c.do(ctx, http.MethodGet, server.EventsPath, "", nil, &list, nil); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// do sends one request with an optional JSON body and decodes a JSON answer into out. A
// failed request becomes a *StatusError. hdr, when set, receives the response headers.
func (c *Client) do(ctx context.Context, method, path, contentType string, in, out any, hdr *http.Header) error {
	resp, err := c.send(ctx, method, path, contentType, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if hdr != nil {
		*hdr = resp.Header
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	// The answer replaces out whole: fields the answer omits (an empty status) must not keep
	// the caller's values.
	if v := reflect.ValueOf(out); v.Kind() == reflect.Pointer && !v.IsNil() {
		v.Elem().SetZero()
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// send sends a request and returns a successful response; the caller closes its body.
func (c *Client) send(ctx context.Context, method, path, contentType string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(b)
		if contentType == "" {
			contentType = "application/json"
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	var st server.Status
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(b, &st) != nil || st.Reason == "" {
		st = server.Status{Code: resp.StatusCode, Reason: http.StatusText(resp.StatusCode),
			Message: fmt.Sprintf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))}
	}
	return nil, &StatusError{Status: st}
}
