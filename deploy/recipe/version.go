package recipe

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// SemVer is the recipe part of a release tag: "0.8.1+3.5.0" is recipe version 0.8.1 of a
// recipe packaging upstream version 3.5.0. Only the recipe part orders releases; the
// upstream part is kept for display.
type SemVer struct {
	Major, Minor, Patch uint64
	// Pre holds the dot-separated pre-release identifiers ("rc.1" → ["rc", "1"]).
	Pre []string
	// Upstream is everything after "+", empty when the tag has none.
	Upstream string
}

// ParseVersion parses a release tag "[v]X.Y.Z[-pre][+upstream]". Tags that are not release
// tags (missing parts, leading zeros, junk) are errors, so that callers can skip them.
//
// Co-op Cloud's own recipes tag releases "X.Y.Z+upstream", but real recipe repositories
// also publish plain semver tags with a "v" ("v1.0.3" in foodsharing-cms, "v2.4.8" in the
// 2021 traefik fork): a leading "v" is accepted and ignored for ordering, and the tag keeps
// its spelling wherever it is shown or deployed. Tags may be lightweight or annotated (see
// Source.Versions); abra's lint R014 asks for annotated ones, which is lint's business.
func ParseVersion(tag string) (SemVer, error) {
	var v SemVer
	rest := strings.TrimPrefix(tag, "v")
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		v.Upstream = rest[i+1:]
		if v.Upstream == "" {
			return SemVer{}, fmt.Errorf("version %q: empty upstream part after +", tag)
		}
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		pre := rest[i+1:]
		rest = rest[:i]
		v.Pre = strings.Split(pre, ".")
		for _, id := range v.Pre {
			if !validPreRelease(id) {
				return SemVer{}, fmt.Errorf("version %q: bad pre-release identifier %q", tag, id)
			}
		}
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return SemVer{}, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH before + or -", tag)
	}
	nums := [3]*uint64{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		n, err := parseNumeric(p)
		if err != nil {
			return SemVer{}, fmt.Errorf("version %q: %w", tag, err)
		}
		*nums[i] = n
	}
	return v, nil
}

// parseNumeric parses a semver numeric identifier: digits only, no leading zero.
func parseNumeric(s string) (uint64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", s)
	}
	return strconv.ParseUint(s, 10, 64)
}

func validPreRelease(id string) bool {
	if id == "" {
		return false
	}
	for _, r := range id {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	if isNumeric(id) && len(id) > 1 && id[0] == '0' {
		return false
	}
	return true
}

func isNumeric(s string) bool {
	return s != "" && strings.TrimLeft(s, "0123456789") == ""
}

// Compare orders v and w by semver precedence of the recipe part: -1, 0 or +1. The upstream
// part is ignored, as semver ignores build metadata.
func (v SemVer) Compare(w SemVer) int {
	if c := cmp.Compare(v.Major, w.Major); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Minor, w.Minor); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Patch, w.Patch); c != 0 {
		return c
	}
	// A version without pre-release identifiers ranks above any with them.
	switch {
	case len(v.Pre) == 0 && len(w.Pre) == 0:
		return 0
	case len(v.Pre) == 0:
		return 1
	case len(w.Pre) == 0:
		return -1
	}
	for i := 0; i < min(len(v.Pre), len(w.Pre)); i++ {
		if c := comparePreID(v.Pre[i], w.Pre[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(v.Pre), len(w.Pre))
}

// comparePreID compares pre-release identifiers: numeric ones numerically and below
// alphanumeric ones, alphanumeric ones in ASCII order.
func comparePreID(a, b string) int {
	an, bn := isNumeric(a), isNumeric(b)
	switch {
	case an && bn:
		// Leading zeros are rejected by the parser, so length orders first.
		if c := cmp.Compare(len(a), len(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}

// CompareVersions orders two release tags by their recipe semver. Tags of equal precedence
// are ordered by their text so that sorting is deterministic; a tag that does not parse
// sorts before every release tag.
func CompareVersions(a, b string) int {
	va, errA := ParseVersion(a)
	vb, errB := ParseVersion(b)
	switch {
	case errA != nil && errB != nil:
		return strings.Compare(a, b)
	case errA != nil:
		return -1
	case errB != nil:
		return 1
	}
	if c := va.Compare(vb); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// Version is a published release of a recipe: a release tag and the commit it points at.
type Version struct {
	Tag    string
	Commit string
}

// SortVersions sorts versions oldest first by recipe semver, in place.
func SortVersions(vs []Version) {
	slices.SortFunc(vs, func(a, b Version) int { return CompareVersions(a.Tag, b.Tag) })
}
