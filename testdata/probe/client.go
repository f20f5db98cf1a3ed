package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// healthTimeout stays well under swarm's default healthcheck timeout (30 s) and the short
// ones tests declare, so a hung server reads as unhealthy rather than as a timed-out probe.
const healthTimeout = 2 * time.Second

// checkTimeout bounds one -check attempt; retries, not a long timeout, cover a slow start.
const checkTimeout = 3 * time.Second

// maxShownBody keeps a -check log line readable when the body is large.
const maxShownBody = 200

// checkOptions say what -check sends and what answer counts as success.
type checkOptions struct {
	expectStatus int
	contains     string
	// attempts is the number of requests before giving up (-retries). Several are needed
	// because DNS for tasks.<service> can lag the task start by a second or so.
	attempts int
	interval time.Duration
	// put, when set, is sent as the body of a PUT instead of a GET.
	put *string
}

// runHealth is the image's healthcheck: the image has no shell or curl, so compose files use
// ["CMD", "/probe", "-health"].
func runHealth(ctx context.Context, url string, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	status, body, err := request(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "probe -health:", err)
		return 1
	}
	if status < 200 || status > 299 {
		fmt.Fprintf(stderr, "probe -health: status %d: %s\n", status, shorten(body))
		return 1
	}
	return 0
}

// runCheck is the one-shot job: it prints every attempt, so the task's logs explain a
// failure, and exits 0 as soon as one answer matches.
func runCheck(ctx context.Context, url string, opts checkOptions, stdout io.Writer) int {
	method, body := http.MethodGet, (*string)(nil)
	if opts.put != nil {
		method, body = http.MethodPut, opts.put
	}
	for i := 1; ; i++ {
		if checkOnce(ctx, method, url, body, opts, stdout) {
			return 0
		}
		if i >= opts.attempts || !wait(ctx, opts.interval) {
			fmt.Fprintf(stdout, "check %s %s: no match after %d attempts\n", method, url, i)
			return 1
		}
	}
}

// checkOnce makes one request and reports whether its answer matches opts.
func checkOnce(ctx context.Context, method, url string, body *string, opts checkOptions, stdout io.Writer) bool {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	status, got, err := request(ctx, method, url, body)
	if err != nil {
		fmt.Fprintf(stdout, "check %s %s: %v\n", method, url, err)
		return false
	}
	fmt.Fprintf(stdout, "check %s %s: status %d: %s\n", method, url, status, shorten(got))
	return status == opts.expectStatus && strings.Contains(got, opts.contains)
}

// request sends one request and returns the status and the whole body.
func request(ctx context.Context, method, url string, body *string) (int, string, error) {
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(*body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "", err
	}
	return resp.StatusCode, string(b), nil
}

// shorten trims the body for a one-line log.
func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxShownBody {
		return s[:maxShownBody] + "..."
	}
	return s
}
