//go:build !unix

package recipe

import (
	"context"
	"errors"
)

// lockFile needs flock: mirrors are shared between processes only on unix systems.
func lockFile(context.Context, string, bool) (func(), error) {
	return nil, errors.New("recipe mirrors need file locks, which this platform lacks")
}
