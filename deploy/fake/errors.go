package fake

import (
	"errors"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
)

// engineError is an error as the Docker client returns it for an engine answer: the daemon's
// message, and a class that errdefs (cerrdefs.IsNotFound, client.IsErrNotFound, ...) and
// errors.Is against the containerd sentinels recognise, like the client's own httpError.
// Messages are the engine's own, capitals included, so that code reading them reads the same.
type engineError struct {
	msg   string
	class error
}

func (e *engineError) Error() string { return "Error response from daemon: " + e.msg }

// Is reports the error's class, so errors.Is(err, cerrdefs.ErrNotFound) holds as it does for
// the real client's errors.
func (e *engineError) Is(target error) bool { return errors.Is(e.class, target) }

func errNotFound(format string, args ...any) error {
	return &engineError{msg: fmt.Sprintf(format, args...), class: cerrdefs.ErrNotFound}
}

// errConflict is what the engine answers for a name that is taken (HTTP 409).
func errConflict(format string, args ...any) error {
	return &engineError{msg: fmt.Sprintf(format, args...), class: cerrdefs.ErrConflict}
}

// errInvalid is HTTP 400: bad arguments, and also swarmkit's FailedPrecondition and
// InvalidArgument answers for objects still in use.
func errInvalid(format string, args ...any) error {
	return &engineError{msg: fmt.Sprintf(format, args...), class: cerrdefs.ErrInvalidArgument}
}

// errSystem is HTTP 500, e.g. swarmkit's "update out of sequence" or an unreachable registry.
func errSystem(format string, args ...any) error {
	return &engineError{msg: fmt.Sprintf(format, args...), class: cerrdefs.ErrInternal}
}
