package forge

import (
	"fmt"
	"io"
)

// masked is how a Token prints.
const masked = "***"

// Token is a forge access token. It prints as *** with every fmt verb, in JSON and as text,
// so that a token handed to a logger, an error or a status by mistake does not leak; the
// Client alone reads its value, to send it to the forge.
type Token struct{ value string }

// NewToken wraps a token's value.
func NewToken(value string) Token { return Token{value: value} }

// IsZero reports whether the token is empty.
func (t Token) IsZero() bool { return t.value == "" }

// String returns "***".
func (t Token) String() string { return masked }

// GoString returns a masked form for %#v.
func (t Token) GoString() string { return "forge.Token(" + masked + ")" }

// Format prints "***" whatever the verb and flags.
func (t Token) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, masked) }

// MarshalJSON encodes the token as "***".
func (t Token) MarshalJSON() ([]byte, error) { return []byte(`"` + masked + `"`), nil }

// MarshalText encodes the token as ***.
func (t Token) MarshalText() ([]byte, error) { return []byte(masked), nil }
