package deploy_test

import (
	"testing"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/converge"
)

func TestTargets(t *testing.T) {
	cs := &deploy.ChangeSet{Services: []deploy.Change{
		{Kind: deploy.KindService, Name: "s_a", ID: "1", Action: deploy.Created},
		{Kind: deploy.KindService, Name: "s_b", ID: "2", Action: deploy.Updated, PrevVersion: 7},
		{Kind: deploy.KindService, Name: "s_c", ID: "3", Action: deploy.Unchanged, PrevVersion: 9},
	}}
	want := []converge.Target{
		{ServiceID: "1", Name: "s_a", Changed: true},
		{ServiceID: "2", Name: "s_b", PrevVersion: 7, Changed: true},
		{ServiceID: "3", Name: "s_c", PrevVersion: 9, Changed: false},
	}
	got := deploy.Targets(cs)
	if len(got) != len(want) {
		t.Fatalf("targets %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("target %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
