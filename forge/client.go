package forge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// APIPath is where a forge serves its REST API, under its root URL.
const APIPath = "/api/v1"

// Defaults of Options.
const (
	// DefaultTimeout bounds one request to the forge, reading its answer included.
	DefaultTimeout = 30 * time.Second
	// MaxResponseBytes bounds the answer to one request.
	MaxResponseBytes = 4 << 20
	// PageSize is the page size of list requests: the forges' default maximum
	// ([api] MAX_RESPONSE_ITEMS = 50).
	PageSize = 50
)

// ErrNotFound is the forge's 404: the object (or the membership) does not exist, or the token
// may not see it.
var ErrNotFound = errors.New("not found")

// Error is a request the forge refused (a status that is not 2xx, or a redirect off the
// forge's host) or did not answer. It names the route, never the token.
type Error struct {
	// Method and Route name the request: the route is the API path with the object's names,
	// without the query.
	Method, Route string
	// Code is the HTTP status, zero when there was no answer.
	Code int
	// Message is the forge's message, or what went wrong.
	Message string
	err     error
}

func (e *Error) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("forge %s %s: %s", e.Method, e.Route, e.Message)
	}
	if e.Message == "" {
		return fmt.Sprintf("forge %s %s: %d %s", e.Method, e.Route, e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("forge %s %s: %d %s: %s", e.Method, e.Route, e.Code, http.StatusText(e.Code), e.Message)
}

// Unwrap gives ErrNotFound for a 404, and the transport's error when there was no answer.
func (e *Error) Unwrap() error {
	if e.Code == http.StatusNotFound {
		return ErrNotFound
	}
	return e.err
}

// Options configure a Client.
type Options struct {
	// URL is the forge's root URL (https://codeberg.org); the API is under APIPath. Required.
	URL string
	// Token authenticates every request. Required.
	Token Token
	// HTTPClient sends the requests; default one with DefaultTimeout. Redirects are followed
	// on the forge's own host only, so that the token never goes elsewhere.
	HTTPClient *http.Client
	// UserAgent is sent with every request; default "swarmrun".
	UserAgent string
}

// Client calls a Forgejo or Gitea forge's API with a token. It is safe for concurrent use.
type Client struct {
	api   string // the API's root URL, without a trailing slash
	host  string
	token Token
	hc    *http.Client
	agent string
}

// New returns a Client of the forge at o.URL.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("forge client: %q is not a forge's root URL", o.URL)
	}
	if o.Token.IsZero() {
		return nil, errors.New("forge client: no token")
	}
	if o.UserAgent == "" {
		o.UserAgent = "swarmrun"
	}
	hc := &http.Client{Timeout: DefaultTimeout}
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		hc = &c
	}
	host := u.Host
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != host || len(via) >= 5 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return &Client{api: strings.TrimRight(u.String(), "/") + APIPath, host: host, token: o.Token, hc: hc, agent: o.UserAgent}, nil
}

// Repo names a repository on the forge.
type Repo struct {
	Owner, Name string
}

// String returns owner/name.
func (r Repo) String() string { return r.Owner + "/" + r.Name }

// path joins path segments, escaping each: names come from objects and comments.
func path(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// do sends one request to route (an API path built with path) with query and, when in is not
// nil, a JSON body, and decodes a 2xx answer into out when out is not nil. It returns the
// answer's status code.
func (c *Client) do(ctx context.Context, method, route string, query url.Values, in, out any) (int, error) {
	target := c.api + route
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, &Error{Method: method, Route: route, Message: fmt.Sprintf("encode request: %v", err), err: err}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return 0, &Error{Method: method, Route: route, Message: err.Error(), err: err}
	}
	req.Header.Set("Authorization", "token "+c.token.value)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.agent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// The transport's error names the URL, which holds no secret: the token travels in
		// a header.
		return 0, &Error{Method: method, Route: route, Message: err.Error(), err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return resp.StatusCode, &Error{Method: method, Route: route, Code: resp.StatusCode, Message: fmt.Sprintf("read answer: %v", err), err: err}
	}
	if len(data) > MaxResponseBytes {
		return resp.StatusCode, &Error{Method: method, Route: route, Code: resp.StatusCode, Message: fmt.Sprintf("answer over %d bytes", MaxResponseBytes)}
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, &Error{Method: method, Route: route, Code: resp.StatusCode, Message: message(data)}
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, &Error{Method: method, Route: route, Code: resp.StatusCode, Message: fmt.Sprintf("decode answer: %v", err), err: err}
		}
	}
	return resp.StatusCode, nil
}

// message is the forge's error message ({"message": "..."}), kept short and on one line.
func message(data []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &e) != nil {
		return ""
	}
	m := strings.Join(strings.Fields(e.Message), " ")
	if r := []rune(m); len(r) > 200 {
		m = string(r[:199]) + "…"
	}
	return m
}
