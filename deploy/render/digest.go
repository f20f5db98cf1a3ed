package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/docker/docker/api/types/swarm"
)

// digestPrefix marks every digest render produces.
const digestPrefix = "sha256:"

// ServiceDigest is a stable digest of one service spec: equal specs give equal digests.
// deploy can store it as a label on the service and skip an update when the label of the
// running service equals the digest of the rendered spec.
//
// It covers the spec as given: computed on specs whose IDs are filled in, it also changes when a
// referenced secret or config was re-created under the same name (a new ID).
func ServiceDigest(spec swarm.ServiceSpec) string {
	return digestOf(spec)
}

// digestOf hashes the JSON form of v. encoding/json writes map keys sorted and struct fields
// in declaration order, so the form, and the digest, depend only on the values.
func digestOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// The values are SDK types built from strings, numbers and maps with string keys,
		// which always marshal.
		panic(fmt.Sprintf("render: digest of unmarshalable value: %v", err))
	}
	sum := sha256.Sum256(b)
	return digestPrefix + hex.EncodeToString(sum[:])
}

// dataDigest is the digest of secret or config data, shown in place of secret data.
func dataDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return digestPrefix + hex.EncodeToString(sum[:])
}

// computeDigest hashes the rendered objects. Warnings and the digest itself stay out;
// secret data enters through its digest, as in the printable form.
func (s Stack) computeDigest() string {
	v := s.view()
	v.Digest = ""
	v.Warnings = nil
	return digestOf(v)
}
