package stack

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/deploy/recipe"
)

func TestSecretKeyIsCreatedOnceAndPrivate(t *testing.T) {
	dir := t.TempDir()
	a, err := secretKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := secretKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 32 || !bytes.Equal(a, b) {
		t.Errorf("key not kept: %d bytes, same %t", len(a), bytes.Equal(a, b))
	}
	info, err := os.Stat(filepath.Join(dir, secretKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
}

func TestSecretKeyOf(t *testing.T) {
	env, err := recipe.ParseDotenv(strings.NewReader("SECRET_DB_PASSWORD_VERSION=v2 # length=12\nSECRET_SMTP_KEY_VERSION=v1\n"))
	if err != nil {
		t.Fatal(err)
	}
	vars, err := env.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ full, want string }{
		{"st_db_password_v2", "db_password"},
		{"st_smtp_key_v1", "smtp_key"},
		{"st_db_password_v1", "db_password_v1"}, // not the version in use: no hint
		{"shared_token", "shared_token"},
	}
	for _, tt := range tests {
		if got := secretKeyOf(tt.full, "st", env, vars); got != tt.want {
			t.Errorf("secretKeyOf(%s) = %s, want %s", tt.full, got, tt.want)
		}
	}
	key := bytes.Repeat([]byte{7}, 32)
	got, err := generateSecrets(key, "uid", "st", env, vars, []string{"st_db_password_v2", "st_smtp_key_v1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got["st_db_password_v2"]) != 12 || len(got["st_smtp_key_v1"]) != recipe.DefaultSecretLength {
		t.Errorf("lengths %d and %d, want 12 and %d", len(got["st_db_password_v2"]), len(got["st_smtp_key_v1"]), recipe.DefaultSecretLength)
	}
}

func TestSecretKeyOfWrongLengthIsAnError(t *testing.T) {
	for _, n := range []int{0, 5, 31, 33} {
		dir := t.TempDir()
		path := filepath.Join(dir, secretKeyFile)
		if err := os.WriteFile(path, bytes.Repeat([]byte{1}, n), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := secretKey(dir)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fmt.Sprintf("%d bytes", n)) {
			t.Errorf("%d-byte key: err = %v, want one naming %s and its length", n, err, path)
		}
		if b, _ := os.ReadFile(path); len(b) != n {
			t.Errorf("%d-byte key replaced by %d bytes", n, len(b))
		}
	}
}

func TestSecretKeyLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := secretKey(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != secretKeyFile {
		t.Errorf("data dir holds %v, want only %s", entries, secretKeyFile)
	}
}
