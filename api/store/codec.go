package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// KindOf returns the kind of a stored object's Go type.
func KindOf(obj v1alpha1.Object) (string, error) {
	switch obj.(type) {
	case *v1alpha1.Recipe:
		return v1alpha1.KindRecipe, nil
	case *v1alpha1.TestRun:
		return v1alpha1.KindTestRun, nil
	case *v1alpha1.Repository:
		return v1alpha1.KindRepository, nil
	}
	return "", fmt.Errorf("kind of %T: %w", obj, ErrInvalid)
}

// NewObject returns an empty object of kind; an unknown kind is ErrInvalid.
func NewObject(kind string) (v1alpha1.Object, error) {
	obj, err := v1alpha1.New(kind)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return obj, nil
}

// fields is an object split into its top-level JSON fields, so that spec, status and metadata
// can be compared and swapped without the store knowing each kind's Go types.
type fields map[string]json.RawMessage

func split(obj v1alpha1.Object) (fields, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return splitRaw(b)
}

func splitRaw(b []byte) (fields, error) {
	var f fields
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return f, nil
}

// meta decodes the object's metadata.
func (f fields) meta() (v1alpha1.ObjectMeta, error) {
	var m v1alpha1.ObjectMeta
	if err := json.Unmarshal(f["metadata"], &m); err != nil {
		return m, fmt.Errorf("decode metadata: %w", err)
	}
	return m, nil
}

func (f fields) setMeta(m v1alpha1.ObjectMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode metadata: %w", err)
	}
	f["metadata"] = b
	return nil
}

// set replaces (or, with nil, removes) a top-level field.
func (f fields) set(name string, v json.RawMessage) {
	if v == nil {
		delete(f, name)
		return
	}
	f[name] = v
}

// sameSpec compares specs byte for byte: both sides were written by encoding/json from the
// same Go types, which sorts map keys, so equal specs encode equally.
func sameSpec(a, b fields) bool { return bytes.Equal(a["spec"], b["spec"]) }

func (f fields) encode() ([]byte, error) {
	b, err := json.Marshal(map[string]json.RawMessage(f))
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b, nil
}

// decodeInto replaces *obj with the object encoded in b. obj is zeroed first so that fields
// absent from b (an empty status) do not keep the caller's values.
func decodeInto(b []byte, obj v1alpha1.Object) error {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("decode into %T: %w", obj, ErrInvalid)
	}
	v.Elem().SetZero()
	if err := json.Unmarshal(b, obj); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

func decodeKind(kind string, b []byte) (v1alpha1.Object, error) {
	obj, err := NewObject(kind)
	if err != nil {
		return nil, err
	}
	if err := decodeInto(b, obj); err != nil {
		return nil, err
	}
	return obj, nil
}
