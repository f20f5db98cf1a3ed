package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
)

// CheckJSON holds JSON that is about to be decoded into a value of type t with encoding/json
// to the rules Read holds YAML to. encoding/json keeps the last of a key written twice, and
// matches a struct field whatever the case of its key ("Recipe" sets spec.recipe), so that
// what a client sent and what gets stored can differ without anyone seeing it. CheckJSON
// returns an *Error with every key written twice in one object and every key of a struct that
// is not one of its fields exactly, each with its field path (spec.env: duplicate field "A").
// Malformed JSON is left to the decoder, which says what is wrong with it.
func CheckJSON(data []byte, t reflect.Type) error {
	w := &keyWalk{}
	w.walk(data, t)
	if len(w.problems) > 0 {
		return &Error{Problems: w.problems}
	}
	return nil
}

// keyWalk walks JSON tokens with the Go type each value decodes into, where it is known.
type keyWalk struct {
	stack    []*jsonScope
	problems []Problem
}

// jsonScope is an object or array open during the walk. fields is set for a struct's object,
// elem for a map's object or a slice's array; neither for a value of no fixed type.
type jsonScope struct {
	path    string
	object  bool
	fields  map[string]reflect.Type
	elem    reflect.Type
	seen    map[string]bool
	wantKey bool         // in an object: the next string is a key
	key     string       // in an object: the key whose value comes next
	next    reflect.Type // the type of the value that comes next
	index   int          // in an array: the index of the next value
}

func (w *keyWalk) walk(data []byte, t reflect.Type) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		var top *jsonScope
		if n := len(w.stack); n > 0 {
			top = w.stack[n-1]
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			path, typ := "", t
			if top != nil {
				path, typ = top.childPath(), top.next
			}
			w.stack = append(w.stack, newScope(path, tok == json.Delim('{'), typ))
			continue
		case json.Delim('}'), json.Delim(']'):
			w.stack = w.stack[:len(w.stack)-1]
			if n := len(w.stack); n > 0 {
				w.stack[n-1].valueDone()
			}
			continue
		}
		if top == nil {
			continue
		}
		if key, ok := tok.(string); ok && top.object && top.wantKey {
			w.key(top, key)
			continue
		}
		top.valueDone()
	}
}

// key records an object's key and the type of the value that follows it.
func (w *keyWalk) key(s *jsonScope, key string) {
	s.key, s.wantKey, s.next = key, false, s.elem
	if s.seen[key] {
		w.problems = append(w.problems, Problem{Field: s.path, Message: fmt.Sprintf("duplicate field %s", quote(key))})
	}
	s.seen[key] = true
	if s.fields == nil {
		return
	}
	ft, ok := s.fields[key]
	if !ok {
		w.problems = append(w.problems, Problem{Field: s.path, Message: fmt.Sprintf("unknown field %s%s", quote(key), suggest(key, s.fields))})
	}
	s.next = ft
}

// newScope opens an object or array whose value decodes into typ (nil: no fixed type).
func newScope(path string, object bool, typ reflect.Type) *jsonScope {
	s := &jsonScope{path: path, object: object, wantKey: true, seen: map[string]bool{}}
	typ = decodedType(typ)
	switch {
	case typ == nil:
	case object && typ.Kind() == reflect.Struct:
		s.fields = jsonFields(typ)
	case object && typ.Kind() == reflect.Map, !object && (typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array):
		s.elem = typ.Elem()
	}
	s.next = s.elem
	return s
}

// decodedType is the type whose fields encoding/json fills for t, or nil when t decodes itself
// (json.RawMessage, times, durations) or takes anything.
func decodedType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return nil
	}
	return t
}

// childPath is the field path of the value that comes next, written as Read writes it: .name
// for a struct's field, [key] for a map's, [i] for an item.
func (s *jsonScope) childPath() string {
	switch {
	case !s.object:
		return s.path + "[" + strconv.Itoa(s.index) + "]"
	case s.fields != nil:
		return join(s.path, s.key)
	}
	return s.path + "[" + s.key + "]"
}

// valueDone moves past a value.
func (s *jsonScope) valueDone() {
	if s.object {
		s.wantKey = true
	} else {
		s.index++
	}
}
