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
// db_password), honouring the hints of the secret's conventional version variable in env
// (SECRET_DB_PASSWORD_VERSION=v1 # length=32; see GenerateSecret). rand is the entropy
// source, crypto/rand.Reader outside tests. A secret whose name reads another variable is
// generated with SecretHints and GenerateSecret instead.
func GenerateSecrets(env Env, names []string, rand io.Reader) (map[string]Secret, error) {
	out := make(map[string]Secret, len(names))
	for _, name := range names {
		if _, done := out[name]; done {
			continue
		}
		v, _ := env.Lookup(SecretVersionVar(name))
		value, err := GenerateSecret(v, rand)
		if err != nil {
			return nil, fmt.Errorf("generate secret %s: %w", name, err)
		}
		out[name] = value
	}
	return out, nil
}

// Character sets a "# charset=..." hint may name, comma-separated. abra's own set of names
// is not verified against its pkg/secret source, and no real recipe in the suite uses the
// hint; the names are "default" and "special": "default" is letters and
// digits, "special" adds punctuation that needs no quoting in YAML, URLs' userinfo aside,
// or a double-quoted shell word.
var secretCharsets = map[string]string{
	"default": secretAlphabet,
	"special": "!#%+,-./:=?@^_~",
}

// GenerateSecret draws a random value under the hints of v, the variable that versions the
// secret: "# length=N" sets its length (DefaultSecretLength without one) and
// "# charset=default,special" its characters (letters and digits without one). A hint it
// cannot honour is an error naming the variable, its file and line. abra generates a
// passphrase of words when there is no length (unverified against abra); a run's secrets are
// read by machines only, so swarmrun draws DefaultSecretLength letters and digits. A
// "generate=false" hint (a secret abra leaves for the operator to insert; unverified against
// abra) changes nothing here: a run has no operator to insert it, so it is generated like the
// rest.
func GenerateSecret(v Var, rand io.Reader) (Secret, error) {
	n := DefaultSecretLength
	if h, set := v.Hints["length"]; set {
		l, err := strconv.Atoi(h)
		if err != nil || l <= 0 || l > maxSecretLength {
			return Secret{}, fmt.Errorf("%s: length hint %q: want 1 to %d", v.where(), h, maxSecretLength)
		}
		n = l
	}
	alphabet := secretAlphabet
	if h, set := v.Hints["charset"]; set {
		alphabet = ""
		for _, name := range strings.Split(h, ",") {
			chars, ok := secretCharsets[name]
			if !ok {
				return Secret{}, fmt.Errorf("%s: charset hint %q: unknown set %q (want default, special or both, comma-separated)", v.where(), h, name)
			}
			alphabet += chars
		}
	}
	value, err := randomString(rand, alphabet, n)
	if err != nil {
		return Secret{}, err
	}
	return NewSecret(value), nil
}

// SecretHints finds the variable whose hints a secret's value follows. The secret is known
// by its compose key and its name as the compose file writes it, before interpolation
// ("${STACK_NAME}_orchid_client_secret_${SECRET_ORCID_CLIENT_SECRET_VERSION:-v1}"): the
// first variable the written name reads that env defines with hints wins, then the
// conventional SECRET_<KEY>_VERSION. abra looks the modifiers up by the compose key alone
// (unverified against abra); real recipes version secrets under other names (bonfire's
// orchid_client_secret and oauth_client_secret of the github overlay, traefik's
// ovh_consumer_key versioned by SECRET_OVH_CONSUMER_KEY), so the written name is the better
// guide. With neither, the returned Var has no hints.
func (e Env) SecretHints(key, written string) Var {
	for _, name := range ReferencedVars(written) {
		if v, ok := e.Lookup(name); ok && len(v.Hints) > 0 {
			return v
		}
	}
	v, _ := e.Lookup(SecretVersionVar(key))
	return v
}

// ReferencedVars lists the variables a compose value reads ($NAME, ${NAME...}), in order.
func ReferencedVars(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			continue
		}
		j := i + 1
		if s[j] == '$' { // "$$" is a literal dollar
			i = j
			continue
		}
		if s[j] == '{' {
			j++
		}
		k := j
		for k < len(s) && (s[k] == '_' || isLetter(s[k]) || k > j && s[k] >= '0' && s[k] <= '9') {
			k++
		}
		if k > j {
			out = append(out, s[j:k])
		}
		i = k - 1
	}
	return out
}

// randomString draws n characters of alphabet (at most 256 of them) without modulo bias:
// bytes at or above the largest multiple of the alphabet's size are rejected.
func randomString(rand io.Reader, alphabet string, n int) (string, error) {
	size := len(alphabet)
	limit := 256 - 256%size
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		if _, err := io.ReadFull(rand, buf); err != nil {
			return "", fmt.Errorf("read randomness: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%size])
			}
		}
	}
	return string(out), nil
}
