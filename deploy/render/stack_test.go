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
