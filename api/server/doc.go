// Package server is swarmrun's HTTP JSON API over the store: Kubernetes-style paths
// (/apis/swarmrun.dev/v1alpha1/testruns/NAME/status), server-side apply, validation with every
// field error, deletion that honours finalizers, events (per object, and all of them under
// /apis/swarmrun.dev/v1alpha1/events), watch of objects and of events as JSON lines, and
// errors as a Status with an HTTP code, a reason and a message. Mounts add handlers beside the
// API (serve's /metrics and status page) under the same auth, or, when public, readable
// without the token.
//
// Clients ask for runs; they never write status. The status subresource is read-only to every
// client (403 Forbidden), and every spec write drops the status it carries: status is written
// by swarmrun's controllers, in process on the store.
//
// It serves a unix socket (mode 0600, the local default) and, when asked, TCP, where every
// request needs the bearer token, checked before any body is read; a refusal closes the
// connection. TCP is served over TLS (LoadTLS) unless the operator chose otherwise. Each
// listener is served on its own (ServeWith) with a bound on its open connections, a deadline
// for a request's headers and one for its body, and an idle timeout; responses, watches
// included, are not bounded. Bodies are limited to MaxBodyBytes.
//
// It holds no business logic: objects go to the store as they are once defaulted and valid. It
// must never log or echo a token.
package server
