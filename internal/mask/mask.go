package mask

import (
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Masked is what a secret is replaced with.
const Masked = "***"

// minSecretLen keeps a Masker from masking short values ("1", "v1") that would turn every
// occurrence of a common string into noise; generated secrets are far longer.
const minSecretLen = 4

// secretKey matches environment keys and JSON fields whose values are secrets.
var secretKey = regexp.MustCompile(`(?i)(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)`)

// IsSecretKey reports whether a variable or field named key holds a secret by its name.
func IsSecretKey(key string) bool { return secretKey.MatchString(key) }

// Masker replaces known secret values with Masked. The zero value masks nothing but
// secret-shaped keys; it is safe for concurrent use.
type Masker struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a secret containing another is masked whole
}

// New returns a Masker that knows the given secret values.
func New(secrets ...string) *Masker {
	m := &Masker{}
	m.Add(secrets...)
	return m
}

// Add teaches the Masker more secret values.
func (m *Masker) Add(secrets ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			m.secrets = append(m.secrets, s)
		}
	}
	sort.Slice(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
}

// String returns s with every known secret replaced.
func (m *Masker) String(s string) string {
	if m == nil {
		return s
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, secret := range m.secrets {
		s = strings.ReplaceAll(s, secret, Masked)
	}
	return s
}

// Env returns a copy of env with the values of secret-shaped keys and known secrets masked.
func (m *Masker) Env(env map[string]string) map[string]string {
	if env == nil {
		return nil
	}
	out := make(map[string]string, len(env))
	for k, v := range env {
		if IsSecretKey(k) && v != "" && !isVersionValue(k) {
			out[k] = Masked
			continue
		}
		out[k] = m.String(v)
	}
	return out
}

// isVersionValue spares variables such as SECRET_DB_PASSWORD_VERSION=v1: they name a
// secret's version, not its content, and results need them to explain a deploy.
func isVersionValue(key string) bool {
	return strings.HasSuffix(strings.ToUpper(key), "_VERSION")
}
