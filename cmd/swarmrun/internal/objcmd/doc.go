// Package objcmd holds the commands that work on swarmrun's objects through the API: serve,
// apply, get, describe, delete, wait and events. They print what kubectl prints for the same verbs
// and exit 0 on success, 1 when an object is not found or a wait times out, 2 on bad input.
// Text from objects is printed with control characters escaped, and YAML and JSON output
// masks the values of secret-shaped env keys.
//
// serve serves the unix socket and, with --listen, TCP (TLS, or plain with --insecure), each
// listener on its own with its own bounds (see server.ServeWith), and mounts the webhook
// handler it is given under /hooks/, ahead of the bearer token. Beside the API it serves the
// status page and badges (statuspage) and /metrics (a registry it builds, with swarmrun's own
// metrics, which it shares with its runners through Served); on TCP these need the token
// unless --public-status or --public-metrics publishes them.
//
// The commands only parse flags, call the API client and format; they must not hold logic
// the API or the controllers own.
package objcmd
