package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead feeds the reader arbitrary bytes, seeded with every spec in testdata and the
// examples. Besides not panicking, the reader must keep its contract: either valid objects
// that survive a JSON round trip, or an *Error whose every problem says where and what.
//
//	go test -run='^$' -fuzz=FuzzRead -fuzztime=60s ./spec/
func FuzzRead(f *testing.F) {
	for _, pattern := range []string{"testdata/good/*", "testdata/bad/*.yaml", "../examples/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := Read("fuzz.yaml", bytes.NewReader(data))
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if len(perr.Problems) == 0 || docs != nil {
				t.Fatalf("error with %d problems and %d documents", len(perr.Problems), len(docs))
			}
			for _, p := range perr.Problems {
				if p.File != "fuzz.yaml" || p.Message == "" {
					t.Fatalf("problem %+v lacks its file or message", p)
				}
			}
			return
		}
		for _, d := range docs {
			if ps := Validate(d.Object); len(ps) != 0 {
				t.Fatalf("document %d read without error but is invalid: %v", d.Index, ps)
			}
			first, err := json.Marshal(d.Object)
			if err != nil {
				t.Fatalf("document %d does not encode: %v", d.Index, err)
			}
			// What the reader accepted, written as JSON (as the client sends it), reads
			// back to the same object: decoding and validation agree on every value.
			again, err := Read("again.json", bytes.NewReader(first))
			if err != nil || len(again) != 1 {
				t.Fatalf("document %d as JSON %s reads back as %d documents, %v", d.Index, first, len(again), err)
			}
			second, err := json.Marshal(again[0].Object)
			if err != nil || !bytes.Equal(first, second) {
				t.Fatalf("document %d changes when read back:\n%s\n%s", d.Index, first, second)
			}
		}
	})
}
