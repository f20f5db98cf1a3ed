package policy

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Rule IDs name the rules a Violation breaks. They are stable: operators and dashboards may
// match on them. The table in the package documentation says what each one covers and why.
const (
	// RuleDockerSocket: a host path that is, contains or lies inside an engine socket path
	// (the Docker or containerd socket, their runtime directories) or /proc. Never allowed.
	RuleDockerSocket = "docker-socket"
	// RuleBindMount: a bind mount (or a local volume that binds a host path) outside the
	// allow-list, writable where only read-only binds are allowed, relative, or with "..".
	RuleBindMount = "bind-mount"
	// RuleVolumeDriver: a volume that a plugin provides, or a local volume that mounts a
	// device or a network filesystem on the host.
	RuleVolumeDriver = "volume-driver"
	// RuleMountType: a mount of a type other than bind, volume, tmpfs or image.
	RuleMountType = "mount-type"
	// RuleExternalVolume: a named volume outside the stack's namespace not in externalVolumes.
	RuleExternalVolume = "external-volume"
	// RuleExternalSecret: a secret that is not the stack's own, not in externalSecrets.
	RuleExternalSecret = "external-secret"
	// RuleExternalConfig: a config that is not the stack's own, not in externalConfigs.
	RuleExternalConfig = "external-config"
	// RuleExternalNetwork: a network that is not the stack's own, not in externalNetworks.
	RuleExternalNetwork = "external-network"
	// RuleHostNetwork: a service on the host's network stack. Never allowed.
	RuleHostNetwork = "host-network"
	// RuleNetworkDriver: a network the stack creates with a driver other than overlay, or as
	// an ingress, config-only or config-from network.
	RuleNetworkDriver = "network-driver"
	// RuleCapAdd: a capability added beyond Docker's default set.
	RuleCapAdd = "cap-add"
	// RuleSecurityOptions: seccomp or AppArmor turned off or replaced, an SELinux context, a
	// credential spec.
	RuleSecurityOptions = "security-options"
	// RuleOOMScoreAdj: a negative OOM score adjustment, which makes the host's own processes
	// die first when memory runs out.
	RuleOOMScoreAdj = "oom-score-adj"
	// RuleGenericResources: a reservation of a node's generic resources (GPUs and other
	// devices).
	RuleGenericResources = "generic-resources"
	// RuleRuntime: a task that is not a container (a plugin or a network attachment).
	RuleRuntime = "runtime"
	// RuleLogDriver: a logging driver other than json-file, local or none.
	RuleLogDriver = "log-driver"
	// RulePublishedPort: a fixed published port not in publishedPorts.
	RulePublishedPort = "published-port"
	// RuleSecretDriver: a secret whose value a secret-driver plugin fetches.
	RuleSecretDriver = "secret-driver"
)

// Rules lists every rule ID, sorted.
func Rules() []string {
	return []string{
		RuleBindMount, RuleCapAdd, RuleDockerSocket, RuleExternalConfig, RuleExternalNetwork,
		RuleExternalSecret, RuleExternalVolume, RuleGenericResources, RuleHostNetwork,
		RuleLogDriver, RuleMountType, RuleNetworkDriver, RuleOOMScoreAdj, RulePublishedPort,
		RuleRuntime, RuleSecretDriver, RuleSecurityOptions, RuleVolumeDriver,
	}
}

// ErrDenied is matched (errors.Is) by every *Error: the stack breaks the deploy policy.
var ErrDenied = errors.New("denied by the deploy policy")

// ErrInvalid is matched (errors.Is) by every *InvalidError: the policy itself is wrong.
var ErrInvalid = errors.New("invalid deploy policy")

// Violation is one way in which a stack breaks the policy.
type Violation struct {
	// Service is the service's name in the compose file (without the stack prefix); empty
	// for what the stack itself declares (a network it creates, a secret it provides).
	Service string
	// Field is where the problem is, in compose terms when compose has the field
	// (volumes[0], cap_add, networks, secrets, ports, logging.driver), else in the terms of
	// the engine's service spec (privileges.seccomp, runtime).
	Field string
	// Subject is the offending value, as short as names it: "bind /var/run/docker.sock",
	// "CAP_SYS_ADMIN", a network's name.
	Subject string
	// Rule is the ID of the rule broken (the Rule* constants).
	Rule string
	// Message says what the rule forbids, or what the policy would have to allow.
	Message string
}

// String reads like "service app: volumes[0] (bind /var/run/docker.sock): the Docker socket
// is never mounted (rule docker-socket)".
func (v Violation) String() string {
	var b strings.Builder
	if v.Service != "" {
		b.WriteString("service " + v.Service + ": ")
	} else {
		b.WriteString("stack: ")
	}
	b.WriteString(v.Field)
	if v.Subject != "" {
		b.WriteString(" (" + v.Subject + ")")
	}
	b.WriteString(": " + v.Message + " (rule " + v.Rule + ")")
	return b.String()
}

// Error is a stack that breaks the policy: every violation, sorted by service (the stack's
// own declarations first), field, subject and rule.
type Error struct {
	// Stack is the stack's name.
	Stack string
	// Deploy is the deploy that was checked.
	Deploy Deploy
	// Violations are all of them, sorted; never empty.
	Violations []Violation
	// Note, when not empty, explains an allow-list that was not applied (a recipe section
	// whose source does not match the Recipe's).
	Note string
}

// Error lists every violation on one line, so that the message fits a condition.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stack %s (%s): %s: ", e.Stack, e.Deploy.describe(), ErrDenied)
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.String())
	}
	if e.Note != "" {
		b.WriteString(" [" + e.Note + "]")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrDenied) true.
func (e *Error) Is(target error) bool { return target == ErrDenied }

// Rules are the distinct rule IDs among the violations, sorted.
func (e *Error) Rules() []string {
	out := make([]string, 0, len(e.Violations))
	for _, v := range e.Violations {
		out = append(out, v.Rule)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sortViolations orders violations by service, field (numbers in it compared as numbers, so
// volumes[2] comes before volumes[10]), subject and rule, and drops exact duplicates.
func sortViolations(vs []Violation) []Violation {
	slices.SortFunc(vs, func(a, b Violation) int {
		return cmp.Or(
			strings.Compare(a.Service, b.Service),
			naturalCompare(a.Field, b.Field),
			strings.Compare(a.Subject, b.Subject),
			strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.Message, b.Message),
		)
	})
	return slices.Compact(vs)
}

// naturalCompare compares strings with runs of digits compared by their value.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, _ := strconv.ParseUint(a[:da], 10, 64)
			nb, _ := strconv.ParseUint(b[:db], 10, 64)
			if c := cmp.Compare(na, nb); c != 0 {
				return c
			}
			if c := cmp.Compare(da, db); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

// digitRun is the length of the run of ASCII digits s starts with (at most 18, so that the
// run always parses).
func digitRun(s string) int {
	n := 0
	for n < len(s) && n < 18 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// Problem is one thing wrong in a policy file, at a field path such as
// "recipes.traefik.bindMounts[0]".
type Problem struct {
	// Field is the path of the offending value; empty when the document as a whole is wrong.
	Field string
	// Message says what is wrong.
	Message string
}

// String reads like `bindMounts[0]: "/" would allow every host path`.
func (p Problem) String() string {
	if p.Field == "" {
		return p.Message
	}
	return p.Field + ": " + p.Message
}

// InvalidError is a policy that cannot be used: every problem found, in the order of the
// file's fields.
type InvalidError struct {
	// File is the path given to Load; empty for Parse and Validate.
	File     string
	Problems []Problem
}

// Error lists every problem on one line.
func (e *InvalidError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalid.Error())
	if e.File != "" {
		b.WriteString(" " + e.File)
	}
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }
