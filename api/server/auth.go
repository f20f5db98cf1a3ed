package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// requireToken refuses every request that does not carry the bearer token, before anything
// reads its body, and closes the connection after the 401: a client without the token gets
// nothing more from it. Both sides are hashed first so that the comparison takes the same time
// whatever the presented token's length.
func requireToken(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="swarmrun"`)
			w.Header().Set("Connection", "close")
			writeStatus(w, newStatus(ReasonUnauthorized, "a valid bearer token is required"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
