package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/spec"
)

// Options configure the handler New returns.
type Options struct {
	// Token, when set, must be presented as "Authorization: Bearer TOKEN" on every request.
	// Set it for TCP; the unix socket relies on its file mode instead.
	Token string
	// MaxBodyBytes bounds a request body; larger ones are refused. Default MaxBodyBytes.
	MaxBodyBytes int64
	// Validate returns every problem with an object about to be stored, after defaulting;
	// old is the stored object, or nil for a new one. Default: spec.Validate, and
	// spec.ValidateUpdate when replacing.
	Validate func(old, obj v1alpha1.Object) []spec.Problem
	// Mounts are handlers served beside the API, such as serve's /metrics and status page.
	Mounts []Mount
}

// Mount is a handler served beside the API, on the same listener and under the same rules:
// behind the token when Options.Token is set, unless it is Public.
type Mount struct {
	// Pattern is an http.ServeMux pattern with a method and a path outside the API's, such as
	// "GET /metrics" or "GET /badge/{file}".
	Pattern string
	Handler http.Handler
	// Public serves the mount without the token, for what an operator chose to publish (the
	// status page, metrics). Only GET and HEAD requests reach a public mount without the
	// token; any other method is refused as every request without the token is.
	Public bool
}

type handler struct {
	st *store.Store
	o  Options
}

// New returns the API's HTTP handler over st.
func New(st *store.Store, o Options) http.Handler {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = MaxBodyBytes
	}
	if o.Validate == nil {
		o.Validate = func(old, obj v1alpha1.Object) []spec.Problem {
			if old == nil {
				return spec.Validate(obj)
			}
			return spec.ValidateUpdate(old, obj)
		}
	}
	h := &handler{st: st, o: o}
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") }
	mux.HandleFunc("GET /healthz", ok)
	mux.HandleFunc("GET /readyz", ok)
	mux.HandleFunc("GET "+EventsPath, h.allEvents)
	mux.HandleFunc("GET "+PathPrefix+"/{resource}", h.list)
	mux.HandleFunc("POST "+PathPrefix+"/{resource}", h.create)
	mux.HandleFunc("GET "+PathPrefix+"/{resource}/{name}", h.get)
	mux.HandleFunc("PUT "+PathPrefix+"/{resource}/{name}", h.update)
	mux.HandleFunc("PATCH "+PathPrefix+"/{resource}/{name}", h.apply)
	mux.HandleFunc("DELETE "+PathPrefix+"/{resource}/{name}", h.delete)
	mux.HandleFunc("GET "+PathPrefix+"/{resource}/{name}/status", h.get)
	// Every other method on status is refused, whoever asks: see refuseStatusWrite.
	mux.HandleFunc(PathPrefix+"/{resource}/{name}/status", h.refuseStatusWrite)
	mux.HandleFunc("GET "+PathPrefix+"/{resource}/{name}/events", h.events)
	mux.HandleFunc("POST "+PathPrefix+"/{resource}/{name}/events", h.recordEvent)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, newStatus(ReasonNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)))
	})
	public := http.NewServeMux()
	var publics int
	for _, m := range o.Mounts {
		mux.Handle(m.Pattern, m.Handler)
		if m.Public {
			public.Handle(m.Pattern, m.Handler)
			publics++
		}
	}
	var out http.Handler = mux
	if o.Token != "" {
		out = requireToken(o.Token, out)
		if publics > 0 {
			out = servePublic(public, out)
		}
	}
	return logRequests(out)
}

// servePublic serves GET and HEAD requests that a public mount matches without the token;
// everything else goes to protected.
func servePublic(public *http.ServeMux, protected http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			// Handler only matches; ServeHTTP matches again and sets the path values.
			if _, pattern := public.Handler(r); pattern != "" {
				public.ServeHTTP(w, r)
				return
			}
		}
		protected.ServeHTTP(w, r)
	})
}

// kind reads the {resource} path segment.
func kind(w http.ResponseWriter, r *http.Request) (string, bool) {
	res := r.PathValue("resource")
	k, ok := KindOfResource(res)
	if !ok {
		var want []string
		for _, k := range v1alpha1.Kinds() {
			r, _ := v1alpha1.ResourceFor(k)
			want = append(want, r)
		}
		writeStatus(w, newStatus(ReasonNotFound, fmt.Sprintf("the server does not serve resource %q (want one of %s)", res, strings.Join(want, ", "))))
	}
	return k, ok
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	k, ok := kind(w, r)
	if !ok {
		return
	}
	obj, _ := store.NewObject(k)
	if err := h.st.Get(r.Context(), r.PathValue("name"), obj); err != nil {
		writeError(w, k, r.PathValue("name"), err)
		return
	}
	writeJSON(w, http.StatusOK, obj)
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	k, ok := kind(w, r)
	if !ok {
		return
	}
	if watching(r) {
		h.watch(w, r, k)
		return
	}
	items, rv, err := h.st.ListJSON(r.Context(), k)
	if err != nil {
		writeError(w, k, "", err)
		return
	}
	writeList(w, k, rv, items)
}

// writeList writes a List whose items are already JSON, without encoding them again.
func writeList(w http.ResponseWriter, kind, rv string, items []json.RawMessage) {
	head, _ := json.Marshal(List{
		TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.APIVersion, Kind: kind + "List"},
		Metadata: v1alpha1.ListMeta{ResourceVersion: rv},
		Items:    []json.RawMessage{},
	})
	// head ends in "[]}": the items go between the brackets.
	buf := bytes.NewBuffer(make([]byte, 0, len(head)+len(items)*2048))
	buf.Write(head[:len(head)-2])
	for i, it := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(it)
	}
	buf.WriteString("]}\n")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	k, ok := kind(w, r)
	if !ok {
		return
	}
	obj, ok := h.readObject(w, r, k, "", false)
	if !ok {
		return
	}
	if err := h.st.Create(r.Context(), obj); err != nil {
		writeError(w, k, obj.GetObjectMeta().Name, err)
		return
	}
	writeJSON(w, http.StatusCreated, obj)
}

func (h *handler) update(w http.ResponseWriter, r *http.Request) {
	k, ok := kind(w, r)
	if !ok {
		return
	}
	obj, ok := h.readObject(w, r, k, r.PathValue("name"), false)
	if !ok {
		return
	}
	if err := h.st.Update(r.Context(), obj); err != nil {
		writeError(w, k, obj.GetObjectMeta().Name, err)
		return
	}
	writeJSON(w, http.StatusOK, obj)
}

// refuseStatusWrite answers every write to the status subresource with 403. Status is the
// controllers' record of what they did (the stack a teardown removes, the canonical a promotion
// wrote, the verdict); they write it in process on the store, never through the API, so no
// client, on the socket or on TCP, may forge it. The body is not read.
func (h *handler) refuseStatusWrite(w http.ResponseWriter, r *http.Request) {
	k, ok := kind(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	st := newStatus(ReasonForbidden, fmt.Sprintf("%s %q: status is written by swarmrun's controllers only; clients may change the spec (apply)", k, name))
	st.Details = &StatusDetails{Kind: k, Name: name}
	writeStatus(w, st)
}

func (h *handler) apply(w http.ResponseWriter, r *http.Request) {
	k, ok := kind(w, r)
	if !ok {
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != ApplyContentType {
		writeStatus(w, newStatus(ReasonUnsupported, fmt.Sprintf("PATCH needs Content-Type %s, got %q", ApplyContentType, ct)))
		return
	}
	obj, ok := h.readObject(w, r, k, r.PathValue("name"), true)
	if !ok {
		return
	}
	res, err := h.st.Apply(r.Context(), obj)
	if err != nil {
		writeError(w, k, obj.GetObjectMeta().Name, err)
		return
	}
	w.Header().Set(ApplyResultHeader, string(res))
	code := http.StatusOK
	if res == store.Created {
		code = http.StatusCreated
	}
	writeJSON(w, code, obj)
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	k, ok := kind(w, r)
	if !ok {
		return
	}
	obj, err := h.st.Delete(r.Context(), k, r.PathValue("name"))
	if err != nil {
		writeError(w, k, r.PathValue("name"), err)
		return
	}
	writeJSON(w, http.StatusOK, obj)
}

// events lists an object's events, or with ?watch=1 streams those recorded from now on.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	k, ok := kind(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	events, err := h.st.Events(r.Context(), k, name)
	if err != nil {
		writeError(w, k, name, err)
		return
	}
	if watching(r) {
		h.watchEvents(w, r, k, name)
		return
	}
	writeEvents(w, events)
}

// allEvents lists every object's events, oldest first, or with ?watch=1 streams those
// recorded from now on.
func (h *handler) allEvents(w http.ResponseWriter, r *http.Request) {
	if watching(r) {
		h.watchEvents(w, r, "", "")
		return
	}
	events, err := h.st.AllEvents(r.Context())
	if err != nil {
		writeError(w, "", "", err)
		return
	}
	writeEvents(w, events)
}

func writeEvents(w http.ResponseWriter, events []v1alpha1.Event) {
	if events == nil {
		events = []v1alpha1.Event{}
	}
	writeJSON(w, http.StatusOK, &v1alpha1.EventList{
		TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.APIVersion, Kind: "EventList"},
		Items:    events,
	})
}

func watching(r *http.Request) bool {
	v := r.URL.Query().Get("watch")
	return v == "1" || v == "true"
}

func (h *handler) recordEvent(w http.ResponseWriter, r *http.Request) {
	k, ok := kind(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	var req EventRequest
	if !h.decode(w, r, &req) {
		return
	}
	if req.Type != v1alpha1.EventNormal && req.Type != v1alpha1.EventWarning || req.Reason == "" {
		writeStatus(w, invalid(k, name, []Cause{{Field: "type", Message: "want Normal or Warning, with a reason"}}))
		return
	}
	ref := v1alpha1.ObjectReference{Kind: k, Name: name}
	if err := h.st.RecordEvent(r.Context(), ref, req.Type, req.Reason, req.Message); err != nil {
		writeError(w, k, name, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// readObject decodes a request's object of kind k strictly (unknown fields are errors),
// checks its kind and name against the path, defaults and validates it. Whatever status the
// body carries is dropped: only the controllers write status, so a client can neither create
// an object with one (a stack name for a teardown to remove, a green verdict) nor change one
// with a spec write; the store keeps the stored status on update and apply.
// A server-side apply (apply) keeps the stored finalizers whatever the request says, so they
// are validated as kept.
func (h *handler) readObject(w http.ResponseWriter, r *http.Request, k, name string, apply bool) (v1alpha1.Object, bool) {
	obj, _ := store.NewObject(k)
	if !h.decode(w, r, obj) {
		return nil, false
	}
	spec.ClearStatus(obj)
	tm, m := obj.GetTypeMeta(), obj.GetObjectMeta()
	var causes []Cause
	if tm.Kind != "" && tm.Kind != k {
		causes = append(causes, Cause{Field: "kind", Message: fmt.Sprintf("%q does not match the path's %s", tm.Kind, k)})
	}
	if tm.APIVersion != "" && tm.APIVersion != v1alpha1.APIVersion {
		causes = append(causes, Cause{Field: "apiVersion", Message: fmt.Sprintf("%q: want %s", tm.APIVersion, v1alpha1.APIVersion)})
	}
	switch {
	case name != "" && m.Name == "":
		m.Name = name
	case name != "" && m.Name != name:
		causes = append(causes, Cause{Field: "metadata.name", Message: fmt.Sprintf("%q does not match the path's %q", m.Name, name)})
	case m.Name == "":
		causes = append(causes, Cause{Field: "metadata.name", Message: "required"})
	}
	if len(causes) == 0 {
		if d, ok := obj.(interface{ Default() }); ok {
			d.Default()
		}
		old := h.stored(r.Context(), k, m.Name)
		if apply && old != nil {
			m.Finalizers = slices.Clone(old.GetObjectMeta().Finalizers)
		}
		for _, p := range h.o.Validate(old, obj) {
			causes = append(causes, Cause{Field: p.Field, Message: p.Message})
		}
	}
	if len(causes) > 0 {
		writeStatus(w, invalid(k, m.Name, causes))
		return nil, false
	}
	return obj, true
}

// stored returns the stored object of kind named name, or nil. Validation of a replacement
// reads it outside the write, which is enough for the fields that must not change: a store
// write with a stale resourceVersion still fails, and kind and name cannot change at all.
func (h *handler) stored(ctx context.Context, kind, name string) v1alpha1.Object {
	obj, _ := store.NewObject(kind)
	if h.st.Get(ctx, name, obj) != nil {
		return nil
	}
	return obj
}

// decode reads a request's JSON body into into, strictly: at most MaxBodyBytes, within the
// read deadline, no key written twice, no field but those of into's type as they are spelt,
// one value.
func (h *handler) decode(w http.ResponseWriter, r *http.Request, into any) bool {
	if r.ContentLength > h.o.MaxBodyBytes {
		writeStatus(w, newStatus(ReasonTooLarge, fmt.Sprintf("request body of %d bytes is over %d bytes", r.ContentLength, h.o.MaxBodyBytes)))
		return false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.o.MaxBodyBytes))
	if err == nil {
		err = spec.CheckJSON(data, reflect.TypeOf(into))
	}
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		err = dec.Decode(into)
		if err == nil && dec.More() {
			err = errors.New("more than one JSON value in the body")
		}
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeStatus(w, newStatus(ReasonTooLarge, fmt.Sprintf("request body over %d bytes", tooLarge.Limit)))
		return false
	case errors.Is(err, os.ErrDeadlineExceeded):
		w.Header().Set("Connection", "close")
		writeStatus(w, newStatus(ReasonTimeout, "request body not received in time"))
		return false
	case err != nil:
		writeStatus(w, newStatus(ReasonBadRequest, fmt.Sprintf("request body: %v", err)))
		return false
	}
	return true
}

func invalid(kind, name string, causes []Cause) *Status {
	msgs := make([]string, len(causes))
	for i, c := range causes {
		msgs[i] = c.Message
		if c.Field != "" {
			msgs[i] = c.Field + ": " + c.Message
		}
	}
	st := newStatus(ReasonInvalid, fmt.Sprintf("%s %q is invalid: %s", kind, name, strings.Join(msgs, "; ")))
	st.Details = &StatusDetails{Kind: kind, Name: name, Causes: causes}
	return st
}

// writeError maps a store error to a Status naming the object.
func writeError(w http.ResponseWriter, kind, name string, err error) {
	res := QualifiedResource(kind)
	var st *Status
	switch {
	case errors.Is(err, store.ErrNotFound):
		st = newStatus(ReasonNotFound, fmt.Sprintf("%s %q not found", res, name))
	case errors.Is(err, store.ErrAlreadyExists):
		st = newStatus(ReasonAlreadyExists, fmt.Sprintf("%s %q already exists", res, name))
	case errors.Is(err, store.ErrConflict):
		st = newStatus(ReasonConflict, fmt.Sprintf("operation cannot be fulfilled on %s %q: the object has been modified; read it again and retry", res, name))
	case errors.Is(err, store.ErrInvalid):
		st = newStatus(ReasonBadRequest, err.Error())
	default:
		st = newStatus(ReasonInternalError, err.Error())
	}
	if name != "" {
		st.Details = &StatusDetails{Kind: kind, Name: name}
	}
	writeStatus(w, st)
}

func writeStatus(w http.ResponseWriter, st *Status) { writeJSON(w, st.Code, st) }

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(newStatus(ReasonInternalError, fmt.Sprintf("encode response: %v", err)))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// logRequests logs each request at V(1) through the request context's logger. It logs the
// method, path and code, never headers (they carry the token).
func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &codeRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		logr.FromContextOrDiscard(r.Context()).V(1).Info("request", "method", r.Method, "path", r.URL.Path, "code", rec.code)
	})
}

type codeRecorder struct {
	http.ResponseWriter
	code int
}

func (c *codeRecorder) WriteHeader(code int) {
	c.code = code
	c.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's Flush.
func (c *codeRecorder) Unwrap() http.ResponseWriter { return c.ResponseWriter }
