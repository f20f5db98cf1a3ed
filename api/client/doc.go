// Package client is the Go client of swarmrun's API, over the local unix socket or over
// HTTP(S) with a bearer token; over HTTPS it trusts a given CA file or the system's roots. Its methods mirror the store's (Create, Get, List, Update,
// UpdateStatus, Apply, Delete, Watch, RecordEvent, Events), so code written against a small
// interface of those runs in-process on the store or remotely through this client, except that
// the server refuses UpdateStatus to every client: only the controllers write status. API
// errors come back as *StatusError, which errors.Is matches against the store's sentinels.
//
// It holds no business logic, and never puts the token in an error.
package client
