package v1alpha1

import "time"

// EventType is Normal or Warning, as in Kubernetes.
type EventType string

// Event types.
const (
	EventNormal  EventType = "Normal"
	EventWarning EventType = "Warning"
)

// ObjectReference names the object an event is about.
type ObjectReference struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	UID  string `json:"uid,omitempty"`
}

// Event is something a controller did or saw, kept per object in a bounded list. Repeats of
// the same type, reason and message bump Count and LastTimestamp.
type Event struct {
	Object         ObjectReference `json:"involvedObject"`
	Type           EventType       `json:"type"`
	Reason         string          `json:"reason"`
	Message        string          `json:"message"`
	Count          int32           `json:"count"`
	FirstTimestamp time.Time       `json:"firstTimestamp"`
	LastTimestamp  time.Time       `json:"lastTimestamp"`
}

// EventList is a list of Events.
type EventList struct {
	TypeMeta `json:",inline"`
	Items    []Event `json:"items"`
}
