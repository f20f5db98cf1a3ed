// Package server is swarmrun's HTTP JSON API over the store: Kubernetes-style paths
// (/apis/swarmrun.dev/v1alpha1/testruns/NAME/status), server-side apply, validation with every
// field error, deletion that honours finalizers, events, watch as JSON lines, and errors as a
// Status with an HTTP code, a reason and a message.
//
// It serves a unix socket (mode 0600, the local default) and, when asked, TCP, where every
// request needs the bearer token. It holds no business logic: objects go to the store as they
// are once defaulted and valid. It must never log or echo a token.
package server
