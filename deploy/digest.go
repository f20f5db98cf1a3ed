package deploy

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/swarm"
)

// specDigest is the digest of a service spec as swarmrun sends it, minus the fields swarmrun
// does not own: the digest label itself and ForceUpdate (kept from the live service, or
// bumped on request). JSON encoding sorts map keys, so equal specs give equal digests.
func specDigest(spec swarm.ServiceSpec) (string, error) {
	spec.Labels = withoutKey(spec.Labels, LabelSpecDigest)
	spec.TaskTemplate.ForceUpdate = 0
	b, err := json.Marshal(spec)
	if err != nil {
		return "", fmt.Errorf("digest of service %s: %w", spec.Name, err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// contentDigest returns the label value recording a payload: "sha256:<salt>:<hash>". The
// random salt keeps the label from being a plain hash of a secret, which could be reversed
// by guessing for a short password.
func contentDigest(data []byte) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	return saltedDigest(hex.EncodeToString(salt), data), nil
}

func saltedDigest(salt string, data []byte) string {
	h := sha256.New()
	h.Write([]byte(salt))
	h.Write(data)
	return "sha256:" + salt + ":" + hex.EncodeToString(h.Sum(nil))
}

// sameContent reports whether label (a contentDigest value) records data. ok is false when
// the label is absent or malformed: then nothing is known about the live payload.
func sameContent(label string, data []byte) (same, ok bool) {
	rest, found := strings.CutPrefix(label, "sha256:")
	if !found {
		return false, false
	}
	salt, _, found := strings.Cut(rest, ":")
	if !found || salt == "" {
		return false, false
	}
	want := saltedDigest(salt, data)
	return subtle.ConstantTimeCompare([]byte(want), []byte(label)) == 1, true
}

func withoutKey(m map[string]string, key string) map[string]string {
	if _, ok := m[key]; !ok {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// mergeLabels returns a new map with base's labels overlaid by extra's.
func mergeLabels(base, extra map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// serviceImage is the image a service spec runs, or "" for a spec without a container.
func serviceImage(spec swarm.ServiceSpec) string {
	if spec.TaskTemplate.ContainerSpec == nil {
		return ""
	}
	return spec.TaskTemplate.ContainerSpec.Image
}

// serviceReplicas is the replica count of a replicated service; ok is false for other
// modes. An unset count means 1, as the engine fills it in.
func serviceReplicas(spec swarm.ServiceSpec) (n uint64, ok bool) {
	if spec.Mode.Replicated == nil {
		return 0, false
	}
	if spec.Mode.Replicated.Replicas == nil {
		return 1, true
	}
	return *spec.Mode.Replicated.Replicas, true
}
