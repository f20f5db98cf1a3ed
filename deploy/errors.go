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

// NotOwnedError names the live objects of a stack that Apply, Prune or Remove did not touch
// because they do not carry the Owner's labels. Apply returns it before changing anything;
// Prune and Remove return it after handling what is the owner's. It is final for the
// caller: the objects are someone else's, and trying again changes nothing.
type NotOwnedError struct {
	Stack   string
	Objects []NotOwned
}

// NotOwned is one object that is not the Owner's, and the first owner label that says so.
type NotOwned struct {
	// Kind is KindService, KindNetwork, KindSecret, KindConfig or "volume".
	Kind string
	Name string
	// Label is the owner label the object lacks (Missing) or has with value Got instead of
	// Want.
	Label   string
	Want    string
	Got     string
	Missing bool
}

func (n NotOwned) String() string {
	if n.Missing {
		return fmt.Sprintf("%s %s lacks label %s=%s", n.Kind, n.Name, n.Label, n.Want)
	}
	return fmt.Sprintf("%s %s has label %s=%s, not %s", n.Kind, n.Name, n.Label, n.Got, n.Want)
}

func (e *NotOwnedError) Error() string {
	parts := make([]string, 0, len(e.Objects))
	for _, o := range e.Objects {
		parts = append(parts, o.String())
	}
	return fmt.Sprintf("stack %s holds objects that are not this owner's, left alone: %s", e.Stack, strings.Join(parts, "; "))
}

func (e *NotOwnedError) add(n *NotOwned) {
	if n != nil {
		e.Objects = append(e.Objects, *n)
	}
}

// orNil returns e when it names objects, and nil (not a typed nil) otherwise.
func (e *NotOwnedError) orNil() error {
	if len(e.Objects) == 0 {
		return nil
	}
	return e
}
