package recipe

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/iotest"
)

func secretEnv(t *testing.T, sample string) Env {
	t.Helper()
	env, err := ParseDotenv(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestGenerateSecrets(t *testing.T) {
	env := secretEnv(t, `SECRET_DB_PASSWORD_VERSION=v1 # length=48
SECRET_API_KEY_VERSION=v2 # length=8
SECRET_ADMIN_PASS_VERSION=v1
`)
	names := []string{"db_password", "api_key", "admin_pass", "smtp-password", "db_password"}
	got, err := GenerateSecrets(env, names, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	wantLen := map[string]int{"db_password": 48, "api_key": 8, "admin_pass": DefaultSecretLength, "smtp-password": DefaultSecretLength}
	if len(got) != len(wantLen) {
		t.Fatalf("got %d secrets, want %d", len(got), len(wantLen))
	}
	for name, n := range wantLen {
		v := got[name].Reveal()
		if len(v) != n {
			t.Errorf("%s: length %d, want %d", name, len(v), n)
		}
		if strings.Trim(v, secretAlphabet) != "" {
			t.Errorf("%s: characters outside the alphabet", name)
		}
	}
	if got["db_password"].Reveal()[:32] == got["admin_pass"].Reveal() {
		t.Error("two secrets share a value")
	}
}

func TestGenerateSecretsBadHint(t *testing.T) {
	for _, hint := range []string{"length=abc", "length=0", "length=-3", "length=100000"} {
		env := secretEnv(t, "SECRET_DB_PASSWORD_VERSION=v1 # "+hint+"\n")
		if _, err := GenerateSecrets(env, []string{"db_password"}, rand.Reader); err == nil {
			t.Errorf("hint %q accepted", hint)
		}
	}
}

func TestGenerateSecretsDeterministicAndUnbiased(t *testing.T) {
	// Bytes 0..247 map onto the alphabet four times over; 248..255 are rejected.
	src := bytes.Repeat([]byte{255, 0, 61, 62, 247, 248}, 100)
	got, err := GenerateSecrets(Env{}, []string{"a"}, bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	// 0 → A, 61 → 9, 62 → A, 247 → 9.
	want := strings.Repeat("A9", 16)
	if v := got["a"].Reveal(); v != want {
		t.Errorf("value = %q, want %q", v, want)
	}
}

func TestGenerateSecretsRandomnessError(t *testing.T) {
	_, err := GenerateSecrets(Env{}, []string{"a"}, iotest.ErrReader(errors.New("no entropy")))
	if err == nil || !strings.Contains(err.Error(), "no entropy") {
		t.Errorf("GenerateSecrets with a failing reader = %v", err)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	const value = "hunter2-very-secret"
	s := NewSecret(value)
	holder := struct {
		Name   string
		Secret Secret
		hidden Secret
		Map    map[string]Secret
	}{"db", s, s, map[string]Secret{"db_password": s}}

	var printed []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		printed = append(printed, fmt.Sprintf(verb, s), fmt.Sprintf(verb, holder), fmt.Sprintf(verb, &holder))
	}
	printed = append(printed, s.String(), s.GoString(), fmt.Sprint(s), fmt.Errorf("wrap: %v", s).Error())
	j, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	printed = append(printed, string(j))
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("secret", "value", s, "holder", holder)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("secret", "value", s)
	printed = append(printed, logs.String())

	for _, p := range printed {
		if strings.Contains(p, value) || strings.Contains(p, fmt.Sprintf("%x", value)) {
			t.Errorf("secret leaked: %s", p)
		}
	}
	if got := fmt.Sprint(s); got != Masked {
		t.Errorf("fmt.Sprint(secret) = %q, want %q", got, Masked)
	}
	if s.Reveal() != value {
		t.Errorf("Reveal() = %q", s.Reveal())
	}
	if (Secret{}).Reveal() != "" {
		t.Error("zero Secret reveals something")
	}
}

func TestSecretVersionVar(t *testing.T) {
	tests := []struct{ in, want string }{
		{"db_password", "SECRET_DB_PASSWORD_VERSION"},
		{"smtp-password", "SECRET_SMTP_PASSWORD_VERSION"},
		{"API_KEY", "SECRET_API_KEY_VERSION"},
	}
	for _, tt := range tests {
		if got := SecretVersionVar(tt.in); got != tt.want {
			t.Errorf("SecretVersionVar(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
