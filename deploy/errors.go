package deploy

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotManager means the engine is not a swarm manager: nothing can be deployed through it.
var ErrNotManager = errors.New("this node is not a swarm manager")

// ErrNoRender means Prune was given no render (the head's compose could not be produced), so
// it removed nothing: without the declared service set every service would look orphaned.
var ErrNoRender = errors.New("no render of the stack: prune removes nothing")

// ImageError means one or more images of a render are neither present locally nor pullable.
// Apply returns it before touching the swarm.
type ImageError struct {
	Images []ImageProblem
}

// ImageProblem is one image that cannot be used and the engine's answer about it.
type ImageProblem struct {
	// Image is the image reference as written in compose.
	Image string
	// Services are the full names of the services that use it.
	Services []string
	// Reason is the engine's (or the registry's) answer.
	Reason string
}

func (e *ImageError) Error() string {
	parts := make([]string, 0, len(e.Images))
	for _, p := range e.Images {
		parts = append(parts, fmt.Sprintf("%s (services %s): %s", p.Image, strings.Join(p.Services, ", "), p.Reason))
	}
	return "image not present locally nor pullable: " + strings.Join(parts, "; ")
}

// ImmutableError means a secret or config exists under the name the render uses, with
// different content. Swarm secrets and configs are immutable; the fix is a new name.
type ImmutableError struct {
	// Kind is "secret" or "config".
	Kind string
	// Name is the object's full name.
	Name string
}

func (e *ImmutableError) Error() string {
	return fmt.Sprintf("%s %s exists with different content: %ss are immutable, bump its version (e.g. _v2)", e.Kind, e.Name, e.Kind)
}

// MissingExternalError names every object a render declares as external that does not exist.
// Apply returns it before touching the swarm.
type MissingExternalError struct {
	Networks, Secrets, Configs []string
}

func (e *MissingExternalError) Error() string {
	var parts []string
	add := func(kind string, names []string) {
		if len(names) > 0 {
			parts = append(parts, kind+" "+strings.Join(names, ", "))
		}
	}
	add("networks", e.Networks)
	add("secrets", e.Secrets)
	add("configs", e.Configs)
	return "external objects missing (create them before deploying): " + strings.Join(parts, "; ")
}

func (e *MissingExternalError) empty() bool {
	return len(e.Networks)+len(e.Secrets)+len(e.Configs) == 0
}
