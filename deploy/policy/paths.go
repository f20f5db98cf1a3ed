package policy

import (
	"slices"
	"strings"
)

// enginePaths are the host paths that hand over the engine: the Docker socket, Docker's and
// containerd's runtime directories (plugin and containerd sockets, container network
// namespaces), and /proc, whose /proc/<pid>/root reaches the whole host tree. /var/run is
// a symlink to /run on every current distribution; both spellings are listed because the
// policy compares strings and cannot ask the host.
var enginePaths = []string{
	"/run/docker.sock",
	"/var/run/docker.sock",
	"/run/docker",
	"/var/run/docker",
	"/run/containerd",
	"/var/run/containerd",
	"/proc",
}

// engineReason says why the host path p is refused because it touches an engine path, or
// is "" when it touches none: p equals one, holds one (an ancestor directory such as
// /var/run or /), or lies inside one. p must be clean and absolute.
func engineReason(p string) string {
	for _, e := range enginePaths {
		socket := strings.HasSuffix(e, ".sock")
		switch {
		case p == e && socket:
			return "the Docker socket is never mounted"
		case p == e && e == "/proc":
			return "/proc reaches the host's whole tree (the Docker socket too) through /proc/<pid>/root and is never mounted"
		case p == e:
			return "the engine's runtime directory " + e + " (its sockets, container namespaces) is never mounted"
		case under(p, e) && socket:
			return "it holds the Docker socket " + e + ", which is never mounted"
		case under(p, e):
			return "it holds " + e + ", which is never mounted"
		case under(e, p) && socket:
			return "it lies under the Docker socket " + e + ", which is never mounted"
		case under(e, p) && e == "/proc":
			return "it is inside /proc, which reaches the host's whole tree (the Docker socket too) through /proc/<pid>/root and is never mounted"
		case under(e, p):
			return "it is inside the engine's runtime directory " + e + " (its sockets, container namespaces), which is never mounted"
		}
	}
	return ""
}

// under reports whether p is prefix or lies below it. Both must be clean and absolute.
func under(prefix, p string) bool {
	if prefix == "/" {
		return true
	}
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// underAny reports whether p is under one of prefixes.
func underAny(prefixes []string, p string) bool {
	return slices.ContainsFunc(prefixes, func(prefix string) bool { return under(prefix, p) })
}

// hasDotDot reports whether p has a ".." element. The host resolves ".." after following
// symlinks, so "/allowed/link/../x" can land anywhere; only a lexical clean, which the policy
// is limited to, would call it "/allowed/x".
func hasDotDot(p string) bool {
	return slices.Contains(strings.Split(p, "/"), "..")
}
