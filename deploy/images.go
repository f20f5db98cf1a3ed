package deploy

import (
	"context"
	"fmt"
	"sort"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"

	"github.com/swarmrun/swarmrun/deploy/render"
)

// ImageInfo is what the engine knows about one image of a render.
type ImageInfo struct {
	// Image is the reference the services use, as written in compose.
	Image string
	// Services are the full names of the services that use it, sorted.
	Services []string
	// Local reports that the image is present on this engine; then ID and RepoDigests come
	// from the local image and no registry was asked.
	Local bool
	// ID is the local image ID (sha256:...), empty when the image is not local.
	ID string
	// RepoDigests are the local image's repository digests (empty for images built here).
	RepoDigests []string
	// Digest is the registry's manifest digest, for an image that is only pullable.
	Digest string
}

// CheckImages makes sure every image of the render is present locally or pullable. A local
// image is never looked up in a registry. An image that is neither yields an *ImageError that
// names every such image with the engine's answer; other engine errors are returned as is.
func (d *Deployer) CheckImages(ctx context.Context, st *render.Stack) ([]ImageInfo, error) {
	byImage := map[string][]string{}
	for name, spec := range st.Services {
		img := serviceImage(spec)
		if img == "" {
			continue
		}
		byImage[img] = append(byImage[img], name)
	}
	images := make([]string, 0, len(byImage))
	for img := range byImage {
		images = append(images, img)
	}
	sort.Strings(images)

	infos := make([]ImageInfo, len(images))
	var (
		mu       sync.Mutex
		problems []ImageProblem
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.parallelism)
	for i, img := range images {
		svcs := byImage[img]
		sort.Strings(svcs)
		g.Go(func() error {
			info, reason, err := d.checkImage(gctx, img)
			if err != nil {
				return err
			}
			info.Services = svcs
			infos[i] = info
			if reason != "" {
				mu.Lock()
				problems = append(problems, ImageProblem{Image: img, Services: svcs, Reason: reason})
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("check images: %w", err)
	}
	if len(problems) > 0 {
		sort.Slice(problems, func(i, j int) bool { return problems[i].Image < problems[j].Image })
		return infos, &ImageError{Images: problems}
	}
	return infos, nil
}

// checkImage returns the image's info, or a non-empty reason when it can be neither found
// locally nor resolved in a registry. err is set only when the engine itself failed.
func (d *Deployer) checkImage(ctx context.Context, img string) (ImageInfo, string, error) {
	log := logr.FromContextOrDiscard(ctx)
	info := ImageInfo{Image: img}
	local, err := d.engine.ImageInspect(ctx, img)
	switch {
	case err == nil:
		info.Local = true
		info.ID = local.ID
		info.RepoDigests = local.RepoDigests
		return info, "", nil
	case !cerrdefs.IsNotFound(err):
		return info, "", fmt.Errorf("inspect image %s: %w", img, err)
	}
	rctx, cancel := context.WithTimeout(ctx, d.registryTimeout)
	defer cancel()
	dist, err := d.engine.DistributionInspect(rctx, img, "")
	if err != nil {
		if ctx.Err() != nil {
			return info, "", ctx.Err()
		}
		log.V(1).Info("image not pullable", "image", img, "reason", err.Error())
		return info, fmt.Sprintf("not present locally, and the registry lookup failed: %v", err), nil
	}
	info.Digest = string(dist.Descriptor.Digest)
	return info, "", nil
}
