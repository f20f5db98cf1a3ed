package render

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const externalSecretCompose = `version: "3.8"
services:
  app:
    image: swarmrun-probe:1
    secrets: [db_password]
secrets:
  db_password:
    external: true
    name: ${STACK_NAME}_db_password_v1
  other:
    external: true
    name: shared_other
`

func renderExternal(t *testing.T) *Stack {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yml"), []byte(externalSecretCompose), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := Render(context.Background(), Options{Stack: "run1", Dir: dir, Files: []string{"compose.yml"},
		Env: map[string]string{"STACK_NAME": "run1"}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestProvideSecrets(t *testing.T) {
	tests := []struct {
		name         string
		values       map[string][]byte
		wantErr      string
		wantExternal []string
		wantSecrets  []string
	}{
		{name: "one of two", values: map[string][]byte{"run1_db_password_v1": []byte("s3cr3t-value")},
			wantExternal: []string{"shared_other"}, wantSecrets: []string{"run1_db_password_v1"}},
		{name: "none", values: nil, wantExternal: []string{"run1_db_password_v1", "shared_other"}},
		{name: "not external", values: map[string][]byte{"run1_nope": []byte("x")}, wantErr: "not an external secret",
			wantExternal: []string{"run1_db_password_v1", "shared_other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := renderExternal(t)
			digest := st.Digest
			err := st.ProvideSecrets(tt.values, map[string]string{"swarmrun.dev/testrun": "tr1"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(st.ExternalSecrets, tt.wantExternal) {
				t.Errorf("external = %v, want %v", st.ExternalSecrets, tt.wantExternal)
			}
			var got []string
			for name := range st.Secrets {
				got = append(got, name)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.wantSecrets) {
				t.Errorf("secrets = %v, want %v", got, tt.wantSecrets)
			}
			for name, spec := range st.Secrets {
				if string(spec.Data) != string(tt.values[name]) {
					t.Errorf("secret %s: data not provided", name)
				}
				if spec.Labels["com.docker.stack.namespace"] != "run1" || spec.Labels["swarmrun.dev/testrun"] != "tr1" {
					t.Errorf("secret %s labels = %v", name, spec.Labels)
				}
			}
			if st.Digest != digest {
				t.Errorf("digest changed: provided values must not enter it")
			}
			if strings.Contains(st.String(), "s3cr3t") {
				t.Errorf("String shows a provided value")
			}
		})
	}
}
