package render

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

const secretData = "correct-horse-battery-staple"

const idsCompose = `version: "3.8"
services:
  app:
    image: swarmrun-probe:1
    secrets: [token, ext]
    configs: [conf]
  db:
    image: swarmrun-probe:1
    secrets: [token]
secrets:
  token:
    file: token.txt
  ext:
    external: true
configs:
  conf:
    file: app.conf
`

func TestStackHidesSecretData(t *testing.T) {
	st := renderString(t, idsCompose, map[string]string{"token.txt": secretData, "app.conf": "x"}, nil)
	if got := string(st.Secrets["test_token"].Data); got != secretData {
		t.Fatalf("secret data = %q, want the file's content", got)
	}
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"json":            string(js),
		"json of a value": mustJSON(t, *st),
		"%v":              fmt.Sprintf("%v", st),
		"%+v":             fmt.Sprintf("%+v", *st),
		"%#v":             fmt.Sprintf("%#v", *st),
		//lint:ignore S1025 the test is of each formatting verb
		"%s": fmt.Sprintf("%s", st),
	}
	for name, out := range outputs {
		if strings.Contains(out, secretData) {
			t.Errorf("%s output contains secret data: %s", name, out)
		}
	}
	if !strings.Contains(string(js), dataDigest([]byte(secretData))) {
		t.Errorf("json lacks the secret's data digest: %s", js)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestResolveIDs(t *testing.T) {
	tests := []struct {
		name    string
		secrets map[string]string
		configs map[string]string
		wantErr string
	}{
		{"all known", map[string]string{"test_token": "s1", "ext": "s2"}, map[string]string{"test_conf": "c1"}, ""},
		{"external secret unknown", map[string]string{"test_token": "s1"}, map[string]string{"test_conf": "c1"}, "service test_app: no ID for secret ext"},
		{"config unknown", map[string]string{"test_token": "s1", "ext": "s2"}, nil, "service test_app: no ID for config test_conf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := renderString(t, idsCompose, map[string]string{"token.txt": "x", "app.conf": "y"}, nil)
			before := st.Services["test_app"].TaskTemplate.ContainerSpec.Secrets[0]
			digest := st.Digest
			err := st.ResolveIDs(tt.secrets, tt.configs)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				for name, spec := range st.Services {
					for _, ref := range spec.TaskTemplate.ContainerSpec.Secrets {
						if ref.SecretID != "" {
							t.Errorf("%s: secret %s got ID %q after a failed ResolveIDs", name, ref.SecretName, ref.SecretID)
						}
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for name, spec := range st.Services {
				for _, ref := range spec.TaskTemplate.ContainerSpec.Secrets {
					if ref.SecretID != tt.secrets[ref.SecretName] {
						t.Errorf("%s: secret %s ID = %q, want %q", name, ref.SecretName, ref.SecretID, tt.secrets[ref.SecretName])
					}
				}
				for _, ref := range spec.TaskTemplate.ContainerSpec.Configs {
					if ref.ConfigID != tt.configs[ref.ConfigName] {
						t.Errorf("%s: config %s ID = %q, want %q", name, ref.ConfigName, ref.ConfigID, tt.configs[ref.ConfigName])
					}
				}
			}
			if before.SecretID != "" {
				t.Errorf("ResolveIDs changed a reference the caller held: ID %q", before.SecretID)
			}
			if st.Digest != digest {
				t.Errorf("ResolveIDs changed Digest")
			}
		})
	}
}

func TestExternalNetworksToCheck(t *testing.T) {
	compose := `version: "3.8"
services:
  app:
    image: swarmrun-probe:1
    networks: [proxy, hostnet, own]
networks:
  proxy:
    external: true
  hostnet:
    external: true
    name: host
  own:
`
	st := renderString(t, compose, nil, nil)
	if want := []string{"host", "proxy"}; !slices.Equal(st.ExternalNetworks, want) {
		t.Errorf("ExternalNetworks = %q, want %q", st.ExternalNetworks, want)
	}
	if want := []string{"proxy"}; !slices.Equal(st.ExternalNetworksToCheck(), want) {
		t.Errorf("ExternalNetworksToCheck = %q, want %q", st.ExternalNetworksToCheck(), want)
	}
}
