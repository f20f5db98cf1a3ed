package inventory_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/inventory"
	"github.com/swarmrun/swarmrun/deploy/inventory/invtest"
)

func TestRemoveStackKeepsVolumesUnlessAsked(t *testing.T) {
	f := newFake(t)
	mustCreate(t, f, invtest.Stack{Name: "w", Services: 2, Network: true, Secret: true, Config: true})
	mustCreate(t, f, invtest.Stack{Name: "other", Services: 1})
	f.AddVolume("w_data", map[string]string{deploy.LabelNamespace: "w"})
	d := deploy.New(deploy.Options{Engine: f, PollInterval: time.Millisecond})

	r, err := inventory.RemoveStack(t.Context(), d, "w", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Services) != 2 || len(r.Networks) != 1 || len(r.Secrets) != 1 || len(r.Configs) != 1 || len(r.Volumes) != 0 {
		t.Errorf("removal = %+v", r)
	}
	inv, err := inventory.List(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(inv.Stacks["w"].Objects()); len(got) != 1 || got[0] != "volume:w_data" {
		t.Errorf("left of w = %v, want only its volume", got)
	}
	if inv.Stacks["other"] == nil || len(inv.Stacks["other"].Services) != 1 {
		t.Error("another stack was touched")
	}
	if r, err = inventory.RemoveStack(t.Context(), d, "w", true); err != nil || len(r.Volumes) != 1 {
		t.Errorf("removal with volumes = %+v, %v", r, err)
	}
}

func TestRemoveObject(t *testing.T) {
	f := newFake(t)
	id, err := invtest.Secret(t.Context(), f, "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	o := inventory.Object{Kind: inventory.KindSecret, ID: id, Name: "pw"}
	if err := inventory.RemoveObject(t.Context(), f, o); err != nil {
		t.Fatal(err)
	}
	if err := inventory.RemoveObject(t.Context(), f, o); err != nil {
		t.Errorf("removing a gone object: %v, want success", err)
	}
	boom := errors.New("in use")
	cid, err := invtest.Config(t.Context(), f, "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.FailNext("ConfigRemove", boom)
	if err := inventory.RemoveObject(t.Context(), f, inventory.Object{Kind: inventory.KindConfig, ID: cid, Name: "c"}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the engine's", err)
	}
	inv, err := inventory.List(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	var ingress inventory.Object
	for _, o := range inv.Loose {
		if o.Name == "ingress" {
			ingress = o
		}
	}
	f.ResetCalls()
	err = inventory.RemoveObject(t.Context(), f, ingress)
	if err == nil || !strings.Contains(err.Error(), "predefined") || f.Calls("NetworkRemove") != 0 {
		t.Errorf("removing ingress: %v, %d calls", err, f.Calls("NetworkRemove"))
	}
}
