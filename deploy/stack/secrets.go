package stack

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/render"
)

// secretKeyFile holds the data dir's key for generated secrets (32 random bytes, mode 0600).
const secretKeyFile = "secret.key"

// secretKey reads the data dir's key, creating it once. Generated secrets are derived from it
// rather than stored: a restarted controller regenerates the same values, and neither the
// store nor any status ever holds them. A key file of another length is an error, never
// replaced: every secret of the runs in flight derives from it.
func secretKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, secretKeyFile)
	key, err := readSecretKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	// The key is written in full to a temporary file (0600, as CreateTemp makes it) and only
	// then linked into place, so a crash never leaves a half-written key; a link, unlike a
	// rename, fails when another process put its key there first, whose key is then used.
	f, err := os.CreateTemp(dataDir, "."+secretKeyFile+"-*")
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		return readSecretKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return key, nil
}

// readSecretKey reads a key file, which must hold exactly 32 bytes; a missing file is
// fs.ErrNotExist.
func readSecretKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key: %s holds %d bytes, want 32 (remove it to make a new key, which changes every generated secret)", path, len(key))
	}
	return key, nil
}

// keyStream is an endless deterministic byte stream: HMAC-SHA256(key, label || counter).
type keyStream struct {
	key   []byte
	label string
	n     uint64
	buf   bytes.Buffer
}

func (s *keyStream) Read(p []byte) (int, error) {
	for s.buf.Len() < len(p) {
		m := hmac.New(sha256.New, s.key)
		m.Write([]byte(s.label))
		var c [8]byte
		binary.BigEndian.PutUint64(c[:], s.n)
		m.Write(c[:])
		s.n++
		s.buf.Write(m.Sum(nil))
	}
	return s.buf.Read(p)
}

var _ io.Reader = (*keyStream)(nil)

// generateSecrets derives a value for each external secret (full names) of a run's stack:
// the same run (uid) always gets the same values, different runs different ones. The secret
// is made under its interpolated name, exactly as the recipe writes it; its hints ("# length=N",
// "# charset=...") come from the variable its written name reads (recipe.Env.SecretHints),
// so a secret versioned by a variable that is not SECRET_<KEY>_VERSION keeps its hints.
func generateSecrets(key []byte, uid string, env recipe.Env, sources map[string]render.ObjectSource, names []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(names))
	for _, full := range names {
		src := sources[full]
		hints := env.SecretHints(src.Key, src.Written)
		stream := &keyStream{key: key, label: uid + "\x00" + full}
		value, err := recipe.GenerateSecret(hints, stream)
		if err != nil {
			return nil, fmt.Errorf("generate secret %s (%s): %w", full, declaredAt(src), err)
		}
		out[full] = []byte(value.Reveal())
	}
	return out, nil
}

// declaredAt names where a secret is declared: "compose.yml:12: secrets.db_password".
func declaredAt(src render.ObjectSource) string {
	at := "secrets." + src.Key
	switch {
	case src.File != "" && src.Line > 0:
		return fmt.Sprintf("%s:%d: %s", src.File, src.Line, at)
	case src.File != "":
		return src.File + ": " + at
	}
	return at
}
