package server

import (
	"encoding/json"
	"net/http"

	"github.com/swarmrun/swarmrun/api/store"
)

// watch streams the changes to objects of kind after ?resourceVersion= as JSON lines, one
// WatchLine each, flushed as they come, until the client goes away, the server shuts down or
// the store tells the watcher to re-list.
func (h *handler) watch(w http.ResponseWriter, r *http.Request, kind string) {
	ch, err := h.st.Watch(r.Context(), kind, r.URL.Query().Get("resourceVersion"))
	if err != nil {
		writeError(w, kind, "", err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	enc := json.NewEncoder(w)
	for ev := range ch {
		line := WatchLine{Type: string(ev.Type)}
		if ev.Type != store.Relist {
			b, err := json.Marshal(ev.Object)
			if err != nil {
				line = WatchLine{Type: string(store.Relist)}
			} else {
				line.Object = b
			}
		}
		// Flush only when no more events are waiting, so that a burst goes out in few writes.
		if enc.Encode(&line) != nil || (len(ch) == 0 && rc.Flush() != nil) {
			return
		}
		if line.Type == string(store.Relist) {
			return
		}
	}
}
