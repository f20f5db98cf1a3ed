package stack

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/render"
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

// TestGenerateSecretsFollowTheWrittenName: a secret's hints come from the variable its
// written name reads, so the shapes of real recipes keep theirs: bonfire's orchid key
// versioned by SECRET_ORCID_CLIENT_SECRET_VERSION, traefik's ovh_consumer_key versioned by
// SECRET_OVH_CONSUMER_KEY, and the conventional SECRET_<KEY>_VERSION; a name without a
// hinted variable gets the default; a bad hint names its file and line.
func TestGenerateSecretsFollowTheWrittenName(t *testing.T) {
	env, err := recipe.ParseDotenv(strings.NewReader(`SECRET_DB_PASSWORD_VERSION=v2 # length=12
SECRET_ORCID_CLIENT_SECRET_VERSION=v1 # length=20 charset=special
SECRET_OVH_CONSUMER_KEY=v3 # length=40
SECRET_SMTP_KEY_VERSION=v1
`))
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]render.ObjectSource{
		"st_db_password_v2":          {Key: "db_password", Written: "${STACK_NAME}_db_password_${SECRET_DB_PASSWORD_VERSION}"},
		"st_orchid_client_secret_v1": {Key: "orchid_client_secret", Written: "${STACK_NAME}_orchid_client_secret_${SECRET_ORCID_CLIENT_SECRET_VERSION:-v1}"},
		"st_ovh_consumer_key_v3":     {Key: "ovh_consumer_key", Written: "${STACK_NAME}_ovh_consumer_key_${SECRET_OVH_CONSUMER_KEY}"},
		"st_smtp_key_v1":             {Key: "smtp_key", Written: "$STACK_NAME_smtp_key_${SECRET_SMTP_KEY_VERSION}"},
		"shared_token":               {Key: "token"},
	}
	key := bytes.Repeat([]byte{7}, 32)
	var names []string
	for n := range sources {
		names = append(names, n)
	}
	got, err := generateSecrets(key, "uid", env, sources, names)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"st_db_password_v2": 12, "st_orchid_client_secret_v1": 20, "st_ovh_consumer_key_v3": 40,
		"st_smtp_key_v1": recipe.DefaultSecretLength, "shared_token": recipe.DefaultSecretLength}
	for name, n := range want {
		if len(got[name]) != n {
			t.Errorf("%s: %d characters, want %d", name, len(got[name]), n)
		}
	}
	if !strings.ContainsAny(string(got["st_orchid_client_secret_v1"]), "!#%+,-./:=?@^_~") || strings.ContainsAny(string(got["st_db_password_v2"]), "!#%+,-./:=?@^_~") {
		t.Errorf("charsets: special %q, default %q", got["st_orchid_client_secret_v1"], got["st_db_password_v2"])
	}
	again, _ := generateSecrets(key, "uid", env, sources, names)
	other, _ := generateSecrets(key, "uid2", env, sources, names)
	if string(again["st_db_password_v2"]) != string(got["st_db_password_v2"]) || string(other["st_db_password_v2"]) == string(got["st_db_password_v2"]) {
		t.Error("values are not a function of the seed and the name")
	}

	bad, err := recipe.ParseDotenv(strings.NewReader("A=1\nSECRET_X_VERSION=v1 # length=none\n"))
	if err != nil {
		t.Fatal(err)
	}
	bad.Vars[1].File = ".env.sample"
	_, err = generateSecrets(key, "uid", bad, map[string]render.ObjectSource{
		"st_x_v1": {Key: "x", File: "compose.yml", Line: 9, Written: "${STACK_NAME}_x_${SECRET_X_VERSION}"}}, []string{"st_x_v1"})
	if want := `generate secret st_x_v1 (compose.yml:9: secrets.x): .env.sample:2: SECRET_X_VERSION: length hint "none": want 1 to 4096`; err == nil || err.Error() != want {
		t.Errorf("bad hint: %v\nwant %s", err, want)
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
