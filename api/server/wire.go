package server

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// PathPrefix is the root of the object API.
const PathPrefix = "/apis/" + v1alpha1.APIVersion

// EventsPath lists the events of every object (GET, and GET ?watch=1 to follow them). An
// object's own events are under its path: Path(kind, name, "events").
const EventsPath = PathPrefix + "/events"

// ApplyContentType marks a PATCH as a server-side apply of a whole object.
const ApplyContentType = "application/apply-patch+json"

// ApplyResultHeader is the response header that says what an apply did: created, configured
// or unchanged.
const ApplyResultHeader = "Swarmrun-Apply-Result"

// MaxBodyBytes is the default limit of a request body.
const MaxBodyBytes = 1 << 20

// Reasons of a failed request, as in Kubernetes.
const (
	ReasonNotFound      = "NotFound"
	ReasonAlreadyExists = "AlreadyExists"
	ReasonConflict      = "Conflict"
	ReasonInvalid       = "Invalid"
	ReasonBadRequest    = "BadRequest"
	ReasonUnauthorized  = "Unauthorized"
	ReasonForbidden     = "Forbidden"
	ReasonTimeout       = "Timeout"
	ReasonTooLarge      = "RequestEntityTooLarge"
	ReasonUnsupported   = "UnsupportedMediaType"
	ReasonInternalError = "InternalError"
)

// Status is the body of every failed request.
type Status struct {
	v1alpha1.TypeMeta `json:",inline"`
	// Code is the HTTP status code.
	Code int `json:"code"`
	// Reason is a machine-readable PascalCase reason (ReasonNotFound, ...).
	Reason string `json:"reason"`
	// Message says what went wrong and names the object.
	Message string         `json:"message"`
	Details *StatusDetails `json:"details,omitempty"`
}

// StatusDetails names the object a Status is about and, for Invalid, every field error.
type StatusDetails struct {
	Kind   string  `json:"kind,omitempty"`
	Name   string  `json:"name,omitempty"`
	Causes []Cause `json:"causes,omitempty"`
}

// Cause is one field error.
type Cause struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// WatchLine is one line of a watch stream. Type is ADDED, MODIFIED, DELETED or RELIST;
// RELIST, which has no object, ends the stream: list again and watch from the list's
// resourceVersion.
type WatchLine struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object,omitempty"`
}

// EventRequest is the body of a POST to an object's events.
type EventRequest struct {
	Type    v1alpha1.EventType `json:"type"`
	Reason  string             `json:"reason"`
	Message string             `json:"message"`
}

// List is the body of a list response: a RecipeList, a TestRunList or a RepositoryList.
type List struct {
	v1alpha1.TypeMeta `json:",inline"`
	Metadata          v1alpha1.ListMeta `json:"metadata"`
	Items             []json.RawMessage `json:"items"`
}

// KindOfResource returns the kind served under a path segment such as "testruns": the plural
// resource name of one of v1alpha1.Kinds, exactly.
func KindOfResource(resource string) (string, bool) {
	for _, k := range v1alpha1.Kinds() {
		if r, _ := v1alpha1.ResourceFor(k); r == resource {
			return k, true
		}
	}
	return "", false
}

// Resource returns the path segment of a kind: "testruns" for TestRun, "repositories" for
// Repository.
func Resource(kind string) string {
	if r, err := v1alpha1.ResourceFor(kind); err == nil {
		return r
	}
	return strings.ToLower(kind) + "s"
}

// Path is the API path of a kind's collection, or of one object when name is set, with
// optional subresource ("status", "events").
func Path(kind, name, sub string) string {
	p := PathPrefix + "/" + Resource(kind)
	if name != "" {
		p += "/" + name
	}
	if sub != "" {
		p += "/" + sub
	}
	return p
}

// QualifiedResource names a kind's resource as Kubernetes does in messages:
// testruns.swarmrun.dev.
func QualifiedResource(kind string) string { return Resource(kind) + "." + v1alpha1.Group }

func newStatus(reason, msg string) *Status {
	return &Status{
		TypeMeta: v1alpha1.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Code:     httpStatus(reason), Reason: reason, Message: msg,
	}
}

// httpStatus is the HTTP code a reason is served with.
func httpStatus(reason string) int {
	switch reason {
	case ReasonNotFound:
		return http.StatusNotFound
	case ReasonAlreadyExists, ReasonConflict:
		return http.StatusConflict
	case ReasonInvalid:
		return http.StatusUnprocessableEntity
	case ReasonBadRequest:
		return http.StatusBadRequest
	case ReasonUnauthorized:
		return http.StatusUnauthorized
	case ReasonForbidden:
		return http.StatusForbidden
	case ReasonTimeout:
		return http.StatusRequestTimeout
	case ReasonTooLarge:
		return http.StatusRequestEntityTooLarge
	case ReasonUnsupported:
		return http.StatusUnsupportedMediaType
	}
	return http.StatusInternalServerError
}
