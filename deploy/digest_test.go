package deploy

import (
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"
	"pgregory.net/rapid"
)

func baseSpec() swarm.ServiceSpec {
	one := uint64(1)
	return swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: "s_web", Labels: map[string]string{
			LabelNamespace: "s", LabelImage: "app:1", "a": "1", "b": "2",
		}},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "app:1", Env: []string{"X=1"}}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
	}
}

func TestSpecDigest(t *testing.T) {
	want, err := specDigest(baseSpec())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(want, "sha256:") || len(want) != len("sha256:")+64 {
		t.Fatalf("digest %q is not sha256:<64 hex>", want)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*swarm.ServiceSpec)
		same   bool
	}{
		{"unchanged", func(*swarm.ServiceSpec) {}, true},
		{"labels rebuilt in another order", func(s *swarm.ServiceSpec) {
			s.Labels = map[string]string{"b": "2", "a": "1", LabelImage: "app:1", LabelNamespace: "s"}
		}, true},
		{"digest label", func(s *swarm.ServiceSpec) { s.Labels[LabelSpecDigest] = "sha256:old" }, true},
		{"force update counter", func(s *swarm.ServiceSpec) { s.TaskTemplate.ForceUpdate = 3 }, true},
		{"image", func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Image = "app:2" }, false},
		{"env", func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Env = []string{"X=2"} }, false},
		{"ownership label", func(s *swarm.ServiceSpec) { s.Labels["swarmrun.dev/role"] = "head" }, false},
		{"replicas", func(s *swarm.ServiceSpec) { two := uint64(2); s.Mode.Replicated.Replicas = &two }, false},
		{"secret id", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Secrets = []*swarm.SecretReference{{SecretName: "s_x", SecretID: "new"}}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := baseSpec()
			tc.mutate(&s)
			got, err := specDigest(s)
			if err != nil {
				t.Fatal(err)
			}
			if (got == want) != tc.same {
				t.Errorf("digest equal = %v, want %v", got == want, tc.same)
			}
		})
	}
}

func TestSpecDigestDoesNotMutate(t *testing.T) {
	s := baseSpec()
	s.Labels[LabelSpecDigest] = "sha256:old"
	s.TaskTemplate.ForceUpdate = 2
	if _, err := specDigest(s); err != nil {
		t.Fatal(err)
	}
	if s.Labels[LabelSpecDigest] != "sha256:old" || s.TaskTemplate.ForceUpdate != 2 {
		t.Errorf("specDigest changed its argument: %v, force %d", s.Labels, s.TaskTemplate.ForceUpdate)
	}
}

func TestContentDigest(t *testing.T) {
	data := []byte("hunter2")
	label, err := contentDigest(data)
	if err != nil {
		t.Fatal(err)
	}
	other, err := contentDigest(data)
	if err != nil {
		t.Fatal(err)
	}
	if label == other {
		t.Errorf("two digests of the same data are equal (%s): the salt is not random", label)
	}
	for _, tc := range []struct {
		name        string
		label       string
		data        string
		same, known bool
	}{
		{"same data", label, "hunter2", true, true},
		{"other salt, same data", other, "hunter2", true, true},
		{"different data", label, "hunter3", false, true},
		{"empty data", label, "", false, true},
		{"no label", "", "hunter2", false, false},
		{"plain value", "hunter2", "hunter2", false, false},
		{"no salt", "sha256:abc", "hunter2", false, false},
		{"empty salt", "sha256::abc", "hunter2", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same, known := sameContent(tc.label, []byte(tc.data))
			if same != tc.same || known != tc.known {
				t.Errorf("sameContent = %v, %v; want %v, %v", same, known, tc.same, tc.known)
			}
		})
	}
	if strings.Contains(label, "hunter2") {
		t.Errorf("label %q contains the data", label)
	}
}

// TestSpecDigestProperties: the digest depends on the spec's values only, never on what
// swarmrun does not own, and tells apart specs that differ in anything else.
func TestSpecDigestProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		labels := rapid.MapOf(rapid.StringMatching(`[a-z.]{1,12}`), rapid.String()).Draw(t, "labels")
		env := rapid.SliceOf(rapid.StringMatching(`[A-Z]{1,4}=[a-z0-9]{0,4}`)).Draw(t, "env")
		image := rapid.StringMatching(`app:[0-9]{1,2}`).Draw(t, "image")
		spec := func(force uint64, digestLabel string) swarm.ServiceSpec {
			l := map[string]string{}
			for k, v := range labels {
				l[k] = v
			}
			if digestLabel != "" {
				l[LabelSpecDigest] = digestLabel
			}
			return swarm.ServiceSpec{
				Annotations:  swarm.Annotations{Name: "s_x", Labels: l},
				TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: image, Env: env}, ForceUpdate: force},
			}
		}
		a, err := specDigest(spec(0, ""))
		if err != nil {
			t.Fatal(err)
		}
		b, err := specDigest(spec(rapid.Uint64().Draw(t, "force"), rapid.String().Draw(t, "old digest")))
		if err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Fatalf("digest depends on ForceUpdate or the digest label: %s != %s", a, b)
		}
		other := spec(0, "")
		other.TaskTemplate.ContainerSpec.Image = image + "0"
		c, err := specDigest(other)
		if err != nil {
			t.Fatal(err)
		}
		if a == c {
			t.Fatalf("digest ignores the image")
		}
	})
}
