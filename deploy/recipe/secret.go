package recipe

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

// Masked is what a Secret prints as, wherever it is printed.
const Masked = "***"

// DefaultSecretLength is the length of a generated secret whose version variable carries no
// "# length=N" hint.
const DefaultSecretLength = 32

// maxSecretLength bounds a length hint: a typo must not make a run draw megabytes.
const maxSecretLength = 4096

// secretAlphabet is what generated secrets are made of: letters and digits survive every
// shell, URL, YAML and connection string a recipe might put them in.
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Secret is a secret value that prints as "***" through fmt (every verb), JSON, text
// encoders, slog and logr. The value sits behind a pointer, so that even reflection-based
// printing of a struct holding a Secret shows an address, not the value. Only Reveal gives it
// out, for the one place that hands it to the swarm.
type Secret struct {
	v *string
}

// NewSecret wraps value.
func NewSecret(value string) Secret { return Secret{v: &value} }

// Reveal returns the secret value.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// String implements fmt.Stringer.
func (s Secret) String() string { return Masked }

// GoString implements fmt.GoStringer.
func (s Secret) GoString() string { return Masked }

// Format implements fmt.Formatter, so that %x, %q and friends mask too.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Masked) }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(Masked)), nil }

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Masked), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Masked) }

// MarshalLog implements logr.Marshaler.
func (s Secret) MarshalLog() any { return Masked }

// SecretVersionVar is the env variable that versions the compose secret name (db_password →
// SECRET_DB_PASSWORD_VERSION). Its "# length=N" hint sets the generated secret's length.
func SecretVersionVar(name string) string {
	return "SECRET_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_VERSION"
}

// GenerateSecrets draws a random value for each of names (compose secret keys such as
// db_password), honouring the length hint of the secret's version variable in env
// (SECRET_DB_PASSWORD_VERSION=v1 # length=32) and DefaultSecretLength otherwise. rand is
// the entropy source, crypto/rand.Reader outside tests.
func GenerateSecrets(env Env, names []string, rand io.Reader) (map[string]Secret, error) {
	out := make(map[string]Secret, len(names))
	for _, name := range names {
		if _, done := out[name]; done {
			continue
		}
		n := DefaultSecretLength
		if v, ok := env.Lookup(SecretVersionVar(name)); ok {
			if h, set := v.Hints["length"]; set {
				l, err := strconv.Atoi(h)
				if err != nil || l <= 0 || l > maxSecretLength {
					return nil, fmt.Errorf("generate secret %s: length hint %q of %s: want 1 to %d", name, h, v.Name, maxSecretLength)
				}
				n = l
			}
		}
		value, err := randomString(rand, n)
		if err != nil {
			return nil, fmt.Errorf("generate secret %s: %w", name, err)
		}
		out[name] = NewSecret(value)
	}
	return out, nil
}

// randomString draws n characters of secretAlphabet without modulo bias: bytes at or above
// the largest multiple of the alphabet's size are rejected.
func randomString(rand io.Reader, n int) (string, error) {
	const size = len(secretAlphabet)
	const limit = 256 - 256%size
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		if _, err := io.ReadFull(rand, buf); err != nil {
			return "", fmt.Errorf("read randomness: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, secretAlphabet[int(b)%size])
			}
		}
	}
	return string(out), nil
}
