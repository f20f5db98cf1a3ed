package v1alpha1

import (
	"reflect"
	"testing"
)

func TestDeepCopySharesNothing(t *testing.T) {
	tests := []struct {
		name string
		obj  Object
		cp   func(Object) Object
	}{
		{"recipe", &Recipe{}, func(o Object) Object { return o.(*Recipe).DeepCopy() }},
		{"testrun", &TestRun{}, func(o Object) Object { return o.(*TestRun).DeepCopy() }},
		{"recipe via DeepCopyObject", &Recipe{}, DeepCopyObject},
		{"testrun via DeepCopyObject", &TestRun{}, DeepCopyObject},
		{"repository", &Repository{}, func(o Object) Object { return o.(*Repository).DeepCopy() }},
		{"repository via DeepCopyObject", &Repository{}, DeepCopyObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fill(t, reflect.ValueOf(tt.obj).Elem(), 0)
			got := tt.cp(tt.obj)
			if !reflect.DeepEqual(got, tt.obj) {
				t.Fatalf("copy differs from the original:\n got %+v\nwant %+v", got, tt.obj)
			}
			assertDisjoint(t, reflect.ValueOf(tt.obj), reflect.ValueOf(got), tt.name)
		})
	}
}

func TestDeepCopyNil(t *testing.T) {
	if got := (*Recipe)(nil).DeepCopy(); got != nil {
		t.Errorf("nil Recipe copied to %v", got)
	}
	if got := (*TestRun)(nil).DeepCopy(); got != nil {
		t.Errorf("nil TestRun copied to %v", got)
	}
	if got := (*Repository)(nil).DeepCopy(); got != nil {
		t.Errorf("nil Repository copied to %v", got)
	}
	if got := DeepCopyObject(nil); got != nil {
		t.Errorf("nil Object copied to %v", got)
	}
	if got := DeepCopyObject((*TestRun)(nil)); got != nil {
		t.Errorf("typed nil TestRun copied to %v", got)
	}
}

// fill sets every exported field reachable from v to a non-zero value, so that a field the
// copy forgets shows up either as a difference or as shared memory.
func fill(t *testing.T, v reflect.Value, depth int) {
	t.Helper()
	if depth > 10 {
		t.Fatalf("type nests too deep at %s", v.Type())
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				fill(t, f, depth+1)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte(`{"a":1}`))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(t, v.Index(i), depth+1)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for _, k := range []string{"k0", "k1"} {
			val := reflect.New(v.Type().Elem()).Elem()
			fill(t, val, depth+1)
			v.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), val)
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Bool:
		v.SetBool(true)
	default:
		t.Fatalf("fill: unhandled kind %s of %s", v.Kind(), v.Type())
	}
}

// assertDisjoint fails when a and b share a pointer, a slice's backing array or a map.
func assertDisjoint(t *testing.T, a, b reflect.Value, path string) {
	t.Helper()
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return
		}
		if a.Kind() == reflect.Pointer && a.Pointer() == b.Pointer() {
			t.Errorf("%s: pointer shared by original and copy", path)
		}
		assertDisjoint(t, a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				assertDisjoint(t, a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name)
			}
		}
	case reflect.Slice:
		if a.Len() > 0 && b.Len() > 0 && a.Pointer() == b.Pointer() {
			t.Errorf("%s: slice shared by original and copy", path)
		}
		for i := range min(a.Len(), b.Len()) {
			assertDisjoint(t, a.Index(i), b.Index(i), path+"[]")
		}
	case reflect.Map:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			t.Errorf("%s: map shared by original and copy", path)
		}
		for _, k := range a.MapKeys() {
			if bv := b.MapIndex(k); bv.IsValid() {
				assertDisjoint(t, a.MapIndex(k), bv, path+"[]")
			}
		}
	}
}
