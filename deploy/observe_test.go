package deploy_test

import (
	"reflect"
	"testing"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

func TestObserve(t *testing.T) {
	f := newFake(t)
	d := deploy.New(deploy.Options{Engine: f})
	ctx := testContext(t)

	empty, err := d.Observe(ctx, "s")
	if err != nil {
		t.Fatalf("observe before apply: %v", err)
	}
	if empty.Exists() || empty.Name != "s" {
		t.Errorf("state of a stack that does not exist: %+v", empty)
	}

	cs, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", nil), deploy.ApplyOptions{Labels: ownership})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	createService(t, f, "s_web2", nil) // not the stack's: no namespace label
	f.Settle()
	st, err := d.Observe(ctx, "s")
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	if !reflect.DeepEqual(st.Networks, []string{"s_net"}) || !reflect.DeepEqual(st.Secrets, []string{"s_token"}) ||
		!reflect.DeepEqual(st.Configs, []string{"s_conf"}) {
		t.Errorf("objects %v %v %v, want the stack's network, secret and config", st.Networks, st.Secrets, st.Configs)
	}
	if len(st.Services) != 2 {
		t.Fatalf("services %+v, want web and worker", st.Services)
	}
	for _, want := range []struct{ name, image string }{{"s_web", swarmtest.ProbeV1}, {"s_worker", swarmtest.ProbeV2}} {
		s, ok := st.Service(want.name)
		if !ok {
			t.Errorf("service %s not observed", want.name)
			continue
		}
		if s.Image != want.image || s.ComposeImage != want.image || s.Mode != "replicated" {
			t.Errorf("%s: image %q, compose image %q, mode %q; want %s replicated", s.Name, s.Image, s.ComposeImage, s.Mode, want.image)
		}
		if s.Desired != 1 || s.Running != 1 {
			t.Errorf("%s: running %d of %d, want 1 of 1", s.Name, s.Running, s.Desired)
		}
		if s.Labels["swarmrun.dev/managed-by"] != "swarmrun" || s.SpecDigest == "" {
			t.Errorf("%s: labels %v, want ownership and digest", s.Name, s.Labels)
		}
		for _, c := range cs.Services {
			if c.Name == s.Name && c.ID != s.ID {
				t.Errorf("%s: id %s, apply said %s", s.Name, s.ID, c.ID)
			}
		}
	}
}
