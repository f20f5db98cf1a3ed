// Package client is the Go client of swarmrun's API, over the local unix socket or over
// HTTP(S) with a bearer token; over HTTPS it trusts a given CA file or the system's roots.
// Its methods mirror the store's (Create, Get, List, Update, Apply, Delete, Watch,
// RecordEvent, Events, AllEvents, WatchEvents), so code written against a small interface of
// those runs in-process on the store or remotely through this client. It has no status write:
// only swarmrun's controllers write status, in process on the store, and the server refuses
// every client's. API errors come back as *StatusError, which errors.Is matches against the
// store's sentinels.
//
// It holds no business logic, and never puts the token in an error.
package client
