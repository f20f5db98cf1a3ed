package fake

import (
	"context"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
)

// imageObj is a local image.
type imageObj struct {
	id      string
	ref     string
	created time.Time
}

// distAnswer is what DistributionInspect answers for a reference.
type distAnswer struct {
	inspect registry.DistributionInspect
	err     error
}

// AddImage makes an image present locally, as if built or pulled: tasks of it can start.
func (f *Fake) AddImage(ref string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addImageLocked(ref)
}

// RemoveImage makes an image missing again.
func (f *Fake) RemoveImage(ref string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.images, imageKey(ref))
	f.stirAll()
}

// SetDistribution makes DistributionInspect answer for ref as a reachable registry would;
// by default, as on a machine with no registry, it fails for every reference.
func (f *Fake) SetDistribution(ref string, inspect registry.DistributionInspect, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dists[imageKey(ref)] = distAnswer{inspect: inspect, err: err}
}

func (f *Fake) addImageLocked(ref string) {
	f.images[imageKey(ref)] = imageObj{id: "sha256:" + f.newHexID(), ref: ref, created: f.clock()}
	f.stirAll()
}

func (f *Fake) imagePresent(ref string) bool {
	if _, ok := f.images[f.imageKey(ref)]; ok {
		return true
	}
	// A tagged reference pinned to a digest runs from the tag's local image here, as no
	// registry is reachable to resolve the digest.
	if i := strings.Index(ref, "@"); i > 0 {
		_, ok := f.images[f.imageKey(ref[:i])]
		return ok
	}
	return false
}

// imageKey is imageKey with a cache: references repeat on every step, parsing them does not
// need to.
func (f *Fake) imageKey(ref string) string {
	if k, ok := f.imageKeys[ref]; ok {
		return k
	}
	k := imageKey(ref)
	f.imageKeys[ref] = k
	return k
}

// imageKey normalises a reference so that "probe:1" and "docker.io/library/probe:1" are the
// same image, and an untagged name means :latest, as the engine resolves them.
func imageKey(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.TagNameOnly(named).String()
}

// ImageInspect inspects a local image; a missing one is a not-found error.
func (f *Fake) ImageInspect(ctx context.Context, imageID string, inspectOpts ...client.ImageInspectOption) (image.InspectResponse, error) {
	if err := f.enter(ctx, "ImageInspect", imageID); err != nil {
		return image.InspectResponse{}, err
	}
	f.lock()
	defer f.unlock()
	img, ok := f.images[imageKey(imageID)]
	if !ok {
		for _, i := range f.images {
			if i.id == imageID || i.id == "sha256:"+imageID {
				img, ok = i, true
			}
		}
	}
	if !ok {
		return image.InspectResponse{}, errNotFound("no such image: %s: No such image: %s", imageID, imageID)
	}
	return image.InspectResponse{
		ID: img.id, RepoTags: []string{reference.FamiliarString(mustParse(img.ref))},
		Created: img.created.UTC().Format(time.RFC3339Nano), Os: "linux", Architecture: "amd64",
	}, nil
}

// DistributionInspect answers what SetDistribution set, or fails at once as the engine does
// when no registry is reachable (an internal error naming the registry).
func (f *Fake) DistributionInspect(ctx context.Context, imageRef, encodedRegistryAuth string) (registry.DistributionInspect, error) {
	if err := f.enter(ctx, "DistributionInspect", imageRef, encodedRegistryAuth); err != nil {
		return registry.DistributionInspect{}, err
	}
	f.lock()
	defer f.unlock()
	if a, ok := f.dists[imageKey(imageRef)]; ok {
		return a.inspect, a.err
	}
	host := "registry-1.docker.io"
	if named, err := reference.ParseNormalizedNamed(imageRef); err == nil && reference.Domain(named) != "docker.io" {
		host = reference.Domain(named)
	}
	return registry.DistributionInspect{}, errSystem("Get \"https://%s/v2/\": dial tcp: lookup %s: no such host", host, host)
}

func mustParse(ref string) reference.Named {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		named, _ = reference.ParseNormalizedNamed("invalid")
	}
	return named
}
