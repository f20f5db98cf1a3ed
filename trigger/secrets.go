package trigger

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// maxSecretBytes bounds a token or secret file.
const maxSecretBytes = 64 << 10

// errSecret marks a secret that cannot be read: the Repository is not Ready until an
// operator fixes the file.
var errSecret = errors.New("forge secret unreadable")

// readSecret reads the file name under dir/<host of forgeURL>, confined to that directory
// (os.Root: neither '..' nor a symlink leaves it). The file must be a regular file that group
// and others may not open, and must hold something besides white space, which is trimmed.
// The error names the file, never its content.
func readSecret(dir, forgeURL, name string) ([]byte, error) {
	u, err := url.Parse(forgeURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: %q has no host", errSecret, forgeURL)
	}
	host := u.Host
	if host == "." || host == ".." || strings.ContainsAny(host, `/\`) {
		return nil, fmt.Errorf("%w: host %q cannot name a directory", errSecret, host)
	}
	if !filepath.IsLocal(name) {
		return nil, fmt.Errorf("%w: %q is not a file name inside the secrets directory", errSecret, name)
	}
	hostDir := filepath.Join(dir, host)
	shown := filepath.Join(hostDir, name)
	root, err := os.OpenRoot(hostDir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSecret, err)
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%w: %s: %v", errSecret, shown, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %s: %v", errSecret, shown, err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%w: %s is not a regular file", errSecret, shown)
	case fi.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("%w: %s has mode %04o: group or others may open it (chmod 600)", errSecret, shown, fi.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errSecret, shown, err)
	}
	if len(data) > maxSecretBytes {
		return nil, fmt.Errorf("%w: %s is over %d bytes", errSecret, shown, maxSecretBytes)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: %s is empty", errSecret, shown)
	}
	return data, nil
}
