package mask

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	m := New("s3cr3t-value", "s3cr3t-value-longer", "ab")
	tests := []struct{ in, want string }{
		{"password is s3cr3t-value.", "password is ***."},
		{"s3cr3t-value-longer", "***"}, // the longer secret is masked whole, not as "***-longer"
		{"ab is too short to be a secret", "ab is too short to be a secret"},
		{"nothing here", "nothing here"},
	}
	for _, tt := range tests {
		if got := m.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var nilMasker *Masker
	if got := nilMasker.String("x"); got != "x" {
		t.Errorf("nil Masker changed its input: %q", got)
	}
}

func TestEnv(t *testing.T) {
	m := New("generated-db-password")
	got := m.Env(map[string]string{
		"DB_PASSWORD":                "hunter22",
		"SECRET_DB_PASSWORD_VERSION": "v1",
		"API_TOKEN":                  "tok",
		"DOMAIN":                     "example.org",
		"DSN":                        "postgres://u:generated-db-password@db/app",
		"EMPTY_PASSWORD":             "",
	})
	want := map[string]string{
		"DB_PASSWORD":                Masked,
		"SECRET_DB_PASSWORD_VERSION": "v1",
		"API_TOKEN":                  Masked,
		"DOMAIN":                     "example.org",
		"DSN":                        "postgres://u:***@db/app",
		"EMPTY_PASSWORD":             "",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("Env()[%s] = %q, want %q", k, got[k], w)
		}
	}
	if strings.Contains(strings.Join(values(got), " "), "hunter22") {
		t.Error("a secret value survived masking")
	}
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
