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
	"strings"

	"github.com/swarmrun/swarmrun/deploy/recipe"
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
// the same run (uid) always gets the same values, different runs different ones. The compose
// key of each secret (db_password for <stack>_db_password_v1) is found through its version
// variable in env, whose "# length=N" hint sets the value's length.
func generateSecrets(key []byte, uid, stack string, env recipe.Env, resolved map[string]string, names []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(names))
	for _, full := range names {
		composeKey := secretKeyOf(full, stack, env, resolved)
		stream := &keyStream{key: key, label: uid + "\x00" + full}
		vals, err := recipe.GenerateSecrets(env, []string{composeKey}, stream)
		if err != nil {
			return nil, fmt.Errorf("generate secrets: %w", err)
		}
		out[full] = []byte(vals[composeKey].Reveal())
	}
	return out, nil
}

// secretKeyOf finds the compose key behind a full secret name: the key k whose version
// variable (SECRET_K_VERSION) makes the name <stack>_k_<version>. Without such a variable
// the name less the stack prefix stands in, which takes the default length.
func secretKeyOf(full, stack string, env recipe.Env, resolved map[string]string) string {
	for _, v := range env.Vars {
		rest, ok := strings.CutPrefix(v.Name, "SECRET_")
		if !ok {
			continue
		}
		upper, ok := strings.CutSuffix(rest, "_VERSION")
		if !ok || upper == "" {
			continue
		}
		k := strings.ToLower(upper)
		if full == stack+"_"+k+"_"+resolved[v.Name] {
			return k
		}
	}
	return strings.TrimPrefix(full, stack+"_")
}
