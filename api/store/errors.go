package store

import "errors"

// Errors a caller can branch on with errors.Is.
var (
	// ErrNotFound: no object of that kind and name.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a create found an object of that kind and name.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: the object changed since the resourceVersion the write was based on.
	ErrConflict = errors.New("conflict: the object has been modified")
	// ErrInvalid: the request cannot name a stored object (no name, unknown kind, bad
	// resourceVersion).
	ErrInvalid = errors.New("invalid")
	// ErrLocked: another process holds the store file.
	ErrLocked = errors.New("store is locked by another process")
)
