package deploy

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/render"
)

func TestPinnedTo(t *testing.T) {
	for _, tc := range []struct {
		live, want string
		ok         bool
	}{
		{"app:1", "app:1", true},
		{"app:1@sha256:abcd", "app:1", true},
		{"app:1", "app:2", false},
		{"app:10@sha256:abcd", "app:1", false},
		{"app:1@sha256:abcd", "app:1@sha256:ef01", false},
		{"app:1@sha256:abcd", "app:1@sha256:abcd", true},
	} {
		if got := pinnedTo(tc.live, tc.want); got != tc.ok {
			t.Errorf("pinnedTo(%q, %q) = %v, want %v", tc.live, tc.want, got, tc.ok)
		}
	}
}

func TestServiceUnchanged(t *testing.T) {
	want := baseSpec()
	want.Labels[LabelSpecDigest] = "sha256:d"
	for _, tc := range []struct {
		name   string
		mutate func(live *swarm.ServiceSpec)
		same   bool
	}{
		{"identical", func(*swarm.ServiceSpec) {}, true},
		{"engine filled defaults", func(l *swarm.ServiceSpec) {
			l.TaskTemplate.ContainerSpec.Isolation = "default"
			l.EndpointSpec = &swarm.EndpointSpec{Mode: swarm.ResolutionModeVIP}
		}, true},
		{"image pinned to a digest", func(l *swarm.ServiceSpec) { l.TaskTemplate.ContainerSpec.Image = "app:1@sha256:abcd" }, true},
		{"replicas unset live", func(l *swarm.ServiceSpec) { l.Mode.Replicated.Replicas = nil }, true},
		{"other digest", func(l *swarm.ServiceSpec) { l.Labels[LabelSpecDigest] = "sha256:e" }, false},
		{"no digest label", func(l *swarm.ServiceSpec) { delete(l.Labels, LabelSpecDigest) }, false},
		{"image changed by hand", func(l *swarm.ServiceSpec) { l.TaskTemplate.ContainerSpec.Image = "app:0" }, false},
		{"scaled by hand", func(l *swarm.ServiceSpec) { three := uint64(3); l.Mode.Replicated.Replicas = &three }, false},
		{"mode changed by hand", func(l *swarm.ServiceSpec) {
			l.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			live := baseSpec()
			live.Labels[LabelSpecDigest] = "sha256:d"
			cs := *live.TaskTemplate.ContainerSpec
			live.TaskTemplate.ContainerSpec = &cs
			tc.mutate(&live)
			if got := serviceUnchanged(live, want); got != tc.same {
				t.Errorf("serviceUnchanged = %v, want %v", got, tc.same)
			}
		})
	}
}

func liveWith(nets []network.Summary, secrets []swarm.Secret, configs []swarm.Config) *liveObjects {
	l := &liveObjects{networks: nets, secrets: map[string]swarm.Secret{}, configs: map[string]swarm.Config{}}
	for _, s := range secrets {
		l.secrets[s.Spec.Name] = s
	}
	for _, c := range configs {
		l.configs[c.Spec.Name] = c
	}
	return l
}

func TestCheckExternal(t *testing.T) {
	live := liveWith(
		[]network.Summary{{Name: "proxy", Scope: "swarm"}, {Name: "localnet", Scope: "local"}},
		[]swarm.Secret{{ID: "s1", Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "app_pw_v1"}}}},
		[]swarm.Config{{ID: "c1", Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "app_conf_v1"}}}},
	)
	for _, tc := range []struct {
		name string
		st   render.Stack
		want *MissingExternalError
	}{
		{"all present", render.Stack{
			ExternalNetworks: []string{"proxy"}, ExternalSecrets: []string{"app_pw_v1"}, ExternalConfigs: []string{"app_conf_v1"},
		}, nil},
		{"built-in networks need no lookup", render.Stack{ExternalNetworks: []string{"host", "bridge", "none"}}, nil},
		{"every missing one named", render.Stack{
			ExternalNetworks: []string{"proxy", "web", "edge"},
			ExternalSecrets:  []string{"app_pw_v2", "app_pw_v1"},
			ExternalConfigs:  []string{"app_conf_v2"},
		}, &MissingExternalError{Networks: []string{"edge", "web"}, Secrets: []string{"app_pw_v2"}, Configs: []string{"app_conf_v2"}}},
		{"local network does not count", render.Stack{ExternalNetworks: []string{"localnet"}},
			&MissingExternalError{Networks: []string{`localnet (scope "local", not swarm)`}}},
		{"prefix of a name is not the name", render.Stack{ExternalSecrets: []string{"app_pw"}},
			&MissingExternalError{Secrets: []string{"app_pw"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkExternal(&tc.st, live)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("checkExternal: %v", err)
				}
				return
			}
			var me *MissingExternalError
			if !errors.As(err, &me) {
				t.Fatalf("checkExternal: %v, want a *MissingExternalError", err)
			}
			if !reflect.DeepEqual(me, tc.want) {
				t.Errorf("missing %+v, want %+v", me, tc.want)
			}
		})
	}
}

func TestPlanObjects(t *testing.T) {
	label, err := contentDigest([]byte("pw-1"))
	if err != nil {
		t.Fatal(err)
	}
	secret := func(name string, labels map[string]string) swarm.Secret {
		return swarm.Secret{ID: name + "-id", Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: name, Labels: labels}}}
	}
	config := func(name, data string) swarm.Config {
		return swarm.Config{ID: name + "-id", Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: name}, Data: []byte(data)}}
	}
	live := liveWith(nil,
		[]swarm.Secret{secret("s_pw", map[string]string{LabelContentDigest: label}), secret("s_handmade", nil)},
		[]swarm.Config{config("s_conf", "a = 1\n")},
	)
	wantSecret := func(name, data string) map[string]swarm.SecretSpec {
		return map[string]swarm.SecretSpec{name: {Annotations: swarm.Annotations{Name: name}, Data: []byte(data)}}
	}
	wantConfig := func(name, data string) map[string]swarm.ConfigSpec {
		return map[string]swarm.ConfigSpec{name: {Annotations: swarm.Annotations{Name: name}, Data: []byte(data)}}
	}
	for _, tc := range []struct {
		name      string
		st        render.Stack
		immutable []string
		note      string
	}{
		{"same secret", render.Stack{Secrets: wantSecret("s_pw", "pw-1")}, nil, ""},
		{"new secret", render.Stack{Secrets: wantSecret("s_pw_v2", "pw-2")}, nil, ""},
		{"changed secret", render.Stack{Secrets: wantSecret("s_pw", "pw-2")}, []string{"secret s_pw"}, ""},
		{"secret without digest", render.Stack{Secrets: wantSecret("s_handmade", "x")}, nil, "content not verified"},
		{"same config", render.Stack{Configs: wantConfig("s_conf", "a = 1\n")}, nil, ""},
		{"changed config", render.Stack{Configs: wantConfig("s_conf", "a = 2\n")}, []string{"config s_conf"}, ""},
		{"every changed one named", render.Stack{Secrets: wantSecret("s_pw", "pw-2"), Configs: wantConfig("s_conf", "")},
			[]string{"secret s_pw", "config s_conf"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := planObjects(&tc.st, live)
			var got []string
			for _, e := range unjoin(err) {
				var ie *ImmutableError
				if !errors.As(e, &ie) {
					t.Fatalf("planObjects: %v, want only *ImmutableError", err)
				}
				got = append(got, ie.Kind+" "+ie.Name)
				if strings.Contains(e.Error(), "pw-") {
					t.Errorf("error %q shows secret data", e)
				}
			}
			if !reflect.DeepEqual(got, tc.immutable) {
				t.Errorf("immutable %v, want %v", got, tc.immutable)
			}
			if err == nil {
				var notes []string
				for _, n := range plan.secretNotes {
					notes = append(notes, n)
				}
				if (tc.note == "") != (len(notes) == 0) || (tc.note != "" && !strings.Contains(notes[0], tc.note)) {
					t.Errorf("notes %v, want %q", notes, tc.note)
				}
			}
		})
	}
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestDesiredService(t *testing.T) {
	live := liveWith(nil,
		[]swarm.Secret{{ID: "sid", Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "s_pw"}}}},
		[]swarm.Config{{ID: "cid", Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "s_conf"}}}},
	)
	rendered := baseSpec()
	rendered.TaskTemplate.ContainerSpec.Secrets = []*swarm.SecretReference{{SecretName: "s_pw"}}
	rendered.TaskTemplate.ContainerSpec.Configs = []*swarm.ConfigReference{{ConfigName: "s_conf"}}
	owner := map[string]string{"swarmrun.dev/managed-by": "swarmrun"}

	got, err := desiredService(rendered, owner, live)
	if err != nil {
		t.Fatalf("desiredService: %v", err)
	}
	cs := got.TaskTemplate.ContainerSpec
	if cs.Secrets[0].SecretID != "sid" || cs.Configs[0].ConfigID != "cid" {
		t.Errorf("references %+v %+v, want the live IDs", cs.Secrets[0], cs.Configs[0])
	}
	if got.Labels["swarmrun.dev/managed-by"] != "swarmrun" || got.Labels[LabelNamespace] != "s" {
		t.Errorf("labels %v, want the rendered and the ownership labels", got.Labels)
	}
	digest, err := specDigest(got)
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels[LabelSpecDigest] != digest {
		t.Errorf("digest label %q, want the digest of the sent spec %q", got.Labels[LabelSpecDigest], digest)
	}
	rc := rendered.TaskTemplate.ContainerSpec
	if rc.Secrets[0].SecretID != "" || rc.Configs[0].ConfigID != "" || len(rendered.Labels) != 4 {
		t.Errorf("desiredService changed the render: %+v %+v %v", rc.Secrets[0], rc.Configs[0], rendered.Labels)
	}

	missing := baseSpec()
	missing.TaskTemplate.ContainerSpec.Secrets = []*swarm.SecretReference{{SecretName: "s_gone"}}
	if _, err := desiredService(missing, owner, live); err == nil || !strings.Contains(err.Error(), "s_gone") {
		t.Errorf("desiredService with an unknown secret: %v, want an error naming it", err)
	}
}
