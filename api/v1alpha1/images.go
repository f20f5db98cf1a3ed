package v1alpha1

// ImageOverride changes the image of the services that run an image, the way kustomize's
// `images:` does: a Recipe's overrides apply to every deploy of it (base, head and warm), a
// TestRun's apply after the Recipe's, to the images those produced. They are how a recipe
// whose images cannot be pulled runs on a swarm without a registry (on images present
// there), and how a run tests a recipe against another build of an image.
type ImageOverride struct {
	// Name is the image name to match, without tag or digest ("bonfirenetworks/bonfire").
	// A service's image matches when its name is the same once both are normalised as docker
	// does ("postgres" and "docker.io/library/postgres" are one name); its tag or digest
	// does not matter.
	Name string `json:"name"`
	// NewName replaces the name; empty keeps it.
	NewName string `json:"newName,omitempty"`
	// NewTag replaces the tag (and drops a digest); empty keeps the tag.
	NewTag string `json:"newTag,omitempty"`
	// Digest pins the image to a digest ("sha256:…"), in place of any tag, as kustomize
	// does when it is given with newTag.
	Digest string `json:"digest,omitempty"`
}
