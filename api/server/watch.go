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
	streamLines(w, ch, func(ev store.WatchEvent) (store.EventType, any) { return ev.Type, ev.Object })
}

// watchEvents streams the events recorded on objects of kind named name ("" for all) as JSON
// lines, one WatchLine each (ADDED, MODIFIED for a repeat, RELIST when the watcher fell
// behind), until the client goes away, the server shuts down or the store tells it to re-list.
func (h *handler) watchEvents(w http.ResponseWriter, r *http.Request, kind, name string) {
	ch, err := h.st.WatchEvents(r.Context(), kind, name)
	if err != nil {
		writeError(w, kind, name, err)
		return
	}
	streamLines(w, ch, func(c store.EventChange) (store.EventType, any) { return c.Type, c.Event })
}

// streamLines writes a WatchLine for each value of ch, its type and object as line says,
// flushed when no more values are waiting (so that a burst goes out in few writes), until ch
// closes, the client goes away or a RELIST line is written.
func streamLines[T any](w http.ResponseWriter, ch <-chan T, line func(T) (store.EventType, any)) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	enc := json.NewEncoder(w)
	for v := range ch {
		typ, obj := line(v)
		l := WatchLine{Type: string(typ)}
		if typ != store.Relist {
			b, err := json.Marshal(obj)
			if err != nil {
				l = WatchLine{Type: string(store.Relist)}
			} else {
				l.Object = b
			}
		}
		if enc.Encode(&l) != nil || (len(ch) == 0 && rc.Flush() != nil) || l.Type == string(store.Relist) {
			return
		}
	}
}
