package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// TestDuplicateKeysRefused: a request body with a key written twice in one object, or a field
// spelt in another case, is refused with the key and its path, as spec refuses such a file;
// encoding/json would keep the last, and match any case.
func TestDuplicateKeysRefused(t *testing.T) {
	st, eps := endpoints(t)
	unix := eps[0]
	const head = `"apiVersion":"swarmrun.dev/v1alpha1","kind":"TestRun","metadata":{"name":"dup"}`
	tests := []struct {
		name, body, want string
	}{
		{"top level", `{` + head + `,"kind":"TestRun","spec":{"recipe":"r"}}`, `duplicate field "kind"`},
		{"spec", `{` + head + `,"spec":{"recipe":"r","recipe":"other"}}`, `spec: duplicate field "recipe"`},
		{"env", `{` + head + `,"spec":{"recipe":"r","env":{"A":"1","B":"2","A":"3"}}}`, `spec.env: duplicate field "A"`},
		{"metadata twice", `{` + head + `,"spec":{"recipe":"r","stages":["install"]},"metadata":{"name":"dup"}}`, `duplicate field "metadata"`},
		{"case variant", `{` + head + `,"spec":{"recipe":"r","Recipe":"other"}}`, `spec: unknown field "Recipe" (did you mean "recipe"?)`},
		{"escaped key", `{` + head + `,"spec":{"recipe":"r","rec\u0069pe":"other"}}`, `spec: duplicate field "recipe"`},
		{"labels", `{"apiVersion":"swarmrun.dev/v1alpha1","kind":"TestRun","metadata":{"name":"dup","labels":{"a":"1","a":"2"}},"spec":{"recipe":"r"}}`, `metadata.labels: duplicate field "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range []struct{ method, path, ctype string }{
				{http.MethodPost, server.Path(v1alpha1.KindTestRun, "", ""), "application/json"},
				{http.MethodPut, server.Path(v1alpha1.KindTestRun, "dup", ""), "application/json"},
				{http.MethodPatch, server.Path(v1alpha1.KindTestRun, "dup", ""), server.ApplyContentType},
			} {
				code, body := unix.doRaw(t, m.method, m.path, m.ctype, tt.body)
				if code != http.StatusBadRequest || !strings.Contains(string(body), strings.ReplaceAll(tt.want, `"`, `\"`)) {
					t.Errorf("%s: %d %s, want 400 naming %s", m.method, code, body, tt.want)
				}
			}
		})
	}
	// Keys may repeat in different objects, and a list of objects is a list of scopes.
	ok := `{` + head + `,"spec":{"recipe":"r","env":{"recipe":"x"},"timeout":"1m"}}`
	if code, body := unix.doRaw(t, http.MethodPost, server.Path(v1alpha1.KindTestRun, "", ""), "application/json", ok); code != http.StatusCreated {
		t.Errorf("keys repeated across objects: %d %s", code, body)
	}
	rc := `{"apiVersion":"swarmrun.dev/v1alpha1","kind":"Recipe","metadata":{"name":"rc"},"spec":{"source":{"url":"/srv/x"},` +
		`"overlays":[{"services":{"a":{"image":"x"}}},{"services":{"a":{"image":"y"}}}]}}`
	if code, body := unix.doRaw(t, http.MethodPost, server.Path(v1alpha1.KindRecipe, "", ""), "application/json", rc); code != http.StatusCreated {
		t.Errorf("the same keys in two list items: %d %s", code, body)
	}
	dup := `{"apiVersion":"swarmrun.dev/v1alpha1","kind":"Recipe","metadata":{"name":"rc2"},"spec":{"source":{"url":"/srv/x"},` +
		`"overlays":[{"services":{"a":{"image":"x"}}},{"services":{"a":{"image":"y","image":"z"}}}]}}`
	code, body := unix.doRaw(t, http.MethodPost, server.Path(v1alpha1.KindRecipe, "", ""), "application/json", dup)
	if code != http.StatusBadRequest || !strings.Contains(string(body), `spec.overlays[1][services][a]: duplicate field \"image\"`) {
		t.Errorf("duplicate in an overlay: %d %s", code, body)
	}
	if err := st.Get(t.Context(), "dup", &v1alpha1.TestRun{}); err != nil {
		t.Errorf("the valid body was not stored: %v", err)
	}
	ev := `{"type":"Normal","reason":"A","message":"one","Message":"two"}`
	if code, body := unix.doRaw(t, http.MethodPost, server.Path(v1alpha1.KindTestRun, "dup", "events"), "application/json", ev); code != http.StatusBadRequest || !strings.Contains(string(body), `unknown field \"Message\"`) {
		t.Errorf("duplicate in an event: %d %s", code, body)
	}
}
