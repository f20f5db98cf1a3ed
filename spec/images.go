package spec

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/distribution/reference"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// Anchored forms of the reference grammar's tag and digest, which distribution/reference
// exports unanchored.
var (
	tagPattern    = regexp.MustCompile(`^` + reference.TagRegexp.String() + `$`)
	digestPattern = regexp.MustCompile(`^` + reference.DigestRegexp.String() + `$`)
)

// images checks a list of image overrides (spec.images): every entry names an image and
// changes something, each name appears once, and names, tags and digests are what docker
// accepts, so that an override can never produce an image reference the engine refuses.
func (v *validator) images(field string, images []v1alpha1.ImageOverride) {
	seen := map[string]int{}
	for i, img := range images {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case img.Name == "":
			v.add(f+".name", "required: the image name to override, without tag or digest")
		default:
			if why := imageName(img.Name); why != "" {
				v.add(f+".name", "%s %s", quote(img.Name), why)
			} else if j, dup := seen[normalName(img.Name)]; dup {
				v.add(f+".name", "%s is overridden twice (also %s[%d]); list each image once", quote(img.Name), field, j)
			} else {
				seen[normalName(img.Name)] = i
			}
		}
		if img.NewName == "" && img.NewTag == "" && img.Digest == "" {
			v.add(f, "changes nothing: give newName, newTag or digest")
		}
		if img.NewName != "" {
			if why := imageName(img.NewName); why != "" {
				v.add(f+".newName", "%s %s", quote(img.NewName), why)
			}
		}
		if img.NewTag != "" && !tagPattern.MatchString(img.NewTag) {
			v.add(f+".newTag", "%s is not a valid tag (letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-')", quote(img.NewTag))
		}
		if img.Digest != "" && !digestPattern.MatchString(img.Digest) {
			v.add(f+".digest", "%s is not a digest (want algorithm:hex, such as sha256: and 64 hex digits)", quote(img.Digest))
		}
	}
}

// imageName says why s is not an image name without tag or digest, or "" when it is one.
func imageName(s string) string {
	named, err := reference.ParseNormalizedNamed(s)
	switch {
	case err != nil:
		return "is not an image name: " + err.Error()
	case reference.IsNameOnly(named):
		return ""
	case strings.Contains(s, "@"):
		return "carries a digest: give the name alone, and the digest in digest"
	}
	return "carries a tag: give the name alone, and the tag in newTag"
}

// normalName is an image name as docker normalises it ("postgres" → "docker.io/library/postgres").
func normalName(s string) string {
	if named, err := reference.ParseNormalizedNamed(s); err == nil {
		return named.Name()
	}
	return s
}
