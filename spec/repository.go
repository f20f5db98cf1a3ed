package spec

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// MinPollInterval is the shortest poll interval a Repository may ask for: each poll is a
// request to the forge, which other clients share.
const MinPollInterval = 10 * time.Second

// maxPhraseLength bounds a trigger phrase.
const maxPhraseLength = 64

func (v *validator) repository(s *v1alpha1.RepositorySpec) {
	kinds := make([]string, 0, 2)
	for _, k := range v1alpha1.ForgeKinds() {
		kinds = append(kinds, string(k))
	}
	switch {
	case s.Forge == "":
		v.add("spec.forge", "required (want one of %s)", strings.Join(kinds, ", "))
	case !s.Forge.Known():
		v.add("spec.forge", "unknown forge %s (want one of %s)", quote(string(s.Forge)), strings.Join(kinds, ", "))
	}
	if why := ForgeURLProblem(s.URL); why != "" {
		v.add("spec.url", "%s", why)
	}
	v.forgeName("spec.owner", s.Owner, "the repository's owner on the forge")
	v.forgeName("spec.repo", s.Repo, "the repository's name on the forge")
	v.name("spec.recipe", s.Recipe, "the name of a Recipe")
	v.secretFile("spec.tokenFile", s.TokenFile, true)
	v.secretFile("spec.webhookSecretFile", s.WebhookSecretFile, false)
	v.trigger(&s.Trigger)
	if p := s.PollInterval; p != nil {
		switch {
		case p.Duration < 0:
			v.add("spec.pollInterval", "must not be negative, got %s (0 means webhook deliveries only)", p.Duration)
		case p.Duration > 0 && p.Duration < MinPollInterval:
			v.add("spec.pollInterval", "at least %s, got %s: every poll is a request to the forge", MinPollInterval, p.Duration)
		}
	}
	if s.WebhookSecretFile == "" && s.Poll() == 0 {
		v.add("spec", "set webhookSecretFile, pollInterval or both: without either no comment is ever seen")
	}
	t := &s.Template
	v.stages("spec.template.stages", t.Stages)
	v.ref("spec.template.upgradeBase", t.UpgradeBase)
	v.teardown("spec.template.teardown", t.Teardown)
	v.duration("spec.template.timeout", t.Timeout)
	v.env("spec.template.env", t.Env)
	v.base("spec.template.base", t.Base, t.UpgradeBase, t.Stages)
}

func (v *validator) trigger(t *v1alpha1.RepositoryTrigger) {
	if p := t.Phrase; p != "" {
		switch {
		case len(p) > maxPhraseLength:
			v.add("spec.trigger.phrase", "%d bytes long, at most %d", len(p), maxPhraseLength)
		case strings.TrimSpace(p) != p || strings.ContainsFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f || r == 0xfffd }):
			v.add("spec.trigger.phrase", "%s must not start or end with white space, or contain a control character", quote(p))
		}
	}
	seen := map[string]bool{}
	for i, u := range t.Users {
		field := fmt.Sprintf("spec.trigger.users[%d]", i)
		v.forgeName(field, u, "a forge login")
		if k := strings.ToLower(u); u != "" && seen[k] {
			v.add(field, "duplicate user %s", quote(u))
		} else {
			seen[k] = true
		}
	}
	seenTeams := map[v1alpha1.TeamRef]bool{}
	for i, tm := range t.Teams {
		field := fmt.Sprintf("spec.trigger.teams[%d]", i)
		v.forgeName(field+".org", tm.Org, "the organisation on the forge")
		if tm.Team != "" {
			v.forgeName(field+".team", tm.Team, "")
		}
		k := v1alpha1.TeamRef{Org: strings.ToLower(tm.Org), Team: strings.ToLower(tm.Team)}
		if seenTeams[k] {
			v.add(field, "duplicate team %s", quote(tm.Org+"/"+tm.Team))
		}
		seenTeams[k] = true
	}
	if len(t.Users) == 0 && len(t.Teams) == 0 {
		v.add("spec.trigger", "required: at least one of users or teams, the only people who may ask for a run")
	}
}

// forgeName checks a login, an organisation, a team or a repository name on the forge. The
// names go into request paths, so only the characters forges allow in them pass.
func (v *validator) forgeName(field, name, what string) {
	switch {
	case name == "" && what != "":
		v.add(field, "required: %s", what)
	case name == "":
		v.add(field, "required")
	case len(name) > 100:
		v.add(field, "%d characters long, at most 100", len(name))
	case name == "." || name == ".." || strings.HasPrefix(name, "-") || strings.ContainsFunc(name, func(r rune) bool {
		return r >= 0x80 || !alnum(byte(r)) && r != '-' && r != '_' && r != '.'
	}):
		v.add(field, "%s is not a forge name (letters, digits, '-', '_' and '.', not starting with '-')", quote(name))
	}
}

// secretFile checks the name of a file in serve's forge secrets directory: a clean relative
// path that stays inside it.
func (v *validator) secretFile(field, name string, required bool) {
	switch {
	case name == "" && required:
		v.add(field, "required: a file name in serve's forge secrets directory (--forge-secrets-dir/<host of spec.url>/)")
	case name == "":
	case len(name) > 255 || hasControl(name) || !filepath.IsLocal(name) || filepath.Clean(name) != name || strings.Contains(name, `\`):
		v.add(field, "%s must be a clean relative path inside serve's forge secrets directory for the forge's host, without '..'", quote(name))
	}
}

// ForgeURLProblem says what is wrong with a forge's root URL, or returns "": it must be an
// absolute https URL with a host and without credentials, a query or a fragment. Plain http
// is allowed on a loopback host only, since the forge token travels with every request.
func ForgeURLProblem(raw string) string {
	if raw == "" {
		return "required: the forge's root URL, such as https://codeberg.org"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || hasControl(raw):
		return fmt.Sprintf("%s is not a URL", quote(raw))
	case u.Host == "" || u.Opaque != "":
		return fmt.Sprintf("%s has no host (want https://HOST[/PATH])", quote(raw))
	case u.User != nil:
		return fmt.Sprintf("%s carries credentials: the token comes from spec.tokenFile", quote(raw))
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return fmt.Sprintf("%s has a query or a fragment", quote(raw))
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && loopback(u.Hostname()):
		return ""
	case u.Scheme == "http":
		return fmt.Sprintf("%s is plain http: the forge token would cross the network unencrypted (http is allowed on a loopback host only)", quote(raw))
	}
	return fmt.Sprintf("%s: unsupported scheme %s (want https)", quote(raw), quote(u.Scheme))
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
