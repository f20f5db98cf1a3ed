package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// API group, version and kinds.
const (
	Group      = "swarmrun.dev"
	Version    = "v1alpha1"
	APIVersion = Group + "/" + Version

	KindRecipe     = "Recipe"
	KindTestRun    = "TestRun"
	KindRepository = "Repository"
)

// TypeMeta names the schema of an object.
type TypeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// ObjectMeta is the metadata every stored object carries. The store owns UID,
// ResourceVersion, Generation, CreationTimestamp and DeletionTimestamp; a client sets Name,
// Labels, Annotations and, for optimistic concurrency, ResourceVersion.
type ObjectMeta struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`

	UID               string     `json:"uid,omitempty"`
	Generation        int64      `json:"generation,omitempty"`
	ResourceVersion   string     `json:"resourceVersion,omitempty"`
	CreationTimestamp time.Time  `json:"creationTimestamp,omitzero"`
	DeletionTimestamp *time.Time `json:"deletionTimestamp,omitempty"`
	Finalizers        []string   `json:"finalizers,omitempty"`
}

// Object is what the store keeps: a typed object with metadata.
type Object interface {
	GetTypeMeta() *TypeMeta
	GetObjectMeta() *ObjectMeta
}

// GetTypeMeta implements Object.
func (t *TypeMeta) GetTypeMeta() *TypeMeta { return t }

// GetObjectMeta implements Object.
func (m *ObjectMeta) GetObjectMeta() *ObjectMeta { return m }

// HasFinalizer reports whether the object carries finalizer f.
func (m *ObjectMeta) HasFinalizer(f string) bool {
	for _, x := range m.Finalizers {
		if x == f {
			return true
		}
	}
	return false
}

// ListMeta describes a list: the store's resourceVersion at the time of listing, from which a
// watch can continue without missing a change.
type ListMeta struct {
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

// Duration is a time.Duration written as a string such as "20m" or "1h30m".
type Duration = metav1.Duration

// Time is a timestamp written in RFC 3339 form.
type Time = metav1.Time

// Condition is a Kubernetes-style condition: type, status True/False/Unknown, a PascalCase
// reason, a message, lastTransitionTime and observedGeneration. Use
// k8s.io/apimachinery/pkg/api/meta.SetStatusCondition and FindStatusCondition on []Condition.
type Condition = metav1.Condition

// Condition statuses.
const (
	ConditionTrue    = metav1.ConditionTrue
	ConditionFalse   = metav1.ConditionFalse
	ConditionUnknown = metav1.ConditionUnknown
)
