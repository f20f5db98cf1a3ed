package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

// createOverlay creates an attachable overlay network standing in for a reverse proxy's
// network, and removes it when the test ends.
func createOverlay(t *testing.T, c *client.Client) string {
	t.Helper()
	name := "it-proxy-" + fmt.Sprint(time.Now().UnixNano()%1e9)
	resp, err := c.NetworkCreate(t.Context(), name, network.CreateOptions{Driver: "overlay", Attachable: true})
	if err != nil {
		t.Fatalf("create network %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for {
			err := c.NetworkRemove(ctx, resp.ID)
			if err == nil || cerrdefs.IsNotFound(err) {
				return
			}
			select {
			case <-ctx.Done():
				t.Errorf("remove network %s: %v", name, err)
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	})
	return name
}

func networkNames(t *testing.T, c *client.Client) map[string]string {
	t.Helper()
	nets, err := c.NetworkList(t.Context(), network.ListOptions{})
	if err != nil {
		t.Fatalf("list networks: %v", err)
	}
	out := map[string]string{}
	for _, n := range nets {
		out[n.ID] = n.Name
	}
	return out
}

// normalise turns a live service spec into a comparable tree: network targets by name, no
// secret or config IDs, no swarmrun labels, the stack name replaced by STACK.
func normalise(t *testing.T, spec swarm.ServiceSpec, stack string, netNames map[string]string) any {
	t.Helper()
	spec.Labels = withoutSwarmrunLabels(spec.Labels)
	spec.TaskTemplate.ForceUpdate = 0
	nets := make([]swarm.NetworkAttachmentConfig, len(spec.TaskTemplate.Networks))
	for i, n := range spec.TaskTemplate.Networks {
		if name, ok := netNames[n.Target]; ok {
			n.Target = name
		}
		nets[i] = n
	}
	sort.Slice(nets, func(i, j int) bool { return nets[i].Target < nets[j].Target })
	spec.TaskTemplate.Networks = nets
	if cs := spec.TaskTemplate.ContainerSpec; cs != nil {
		c := *cs
		c.Secrets = nil
		for _, s := range cs.Secrets {
			r := *s
			r.SecretID = ""
			c.Secrets = append(c.Secrets, &r)
		}
		c.Configs = nil
		for _, s := range cs.Configs {
			r := *s
			r.ConfigID = ""
			c.Configs = append(c.Configs, &r)
		}
		spec.TaskTemplate.ContainerSpec = &c
	}
	return tree(t, spec, stack)
}

func withoutSwarmrunLabels(labels map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		if !strings.HasPrefix(k, "swarmrun.dev/") {
			out[k] = v
		}
	}
	return out
}

// tree is v as generic JSON with the stack name replaced by STACK.
func tree(t *testing.T, v any, stack string) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.ReplaceAll(string(b), stack, "STACK"))
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// diff lists the paths where a and b differ.
func diff(path string, a, b any) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		var out []string
		seen := map[string]bool{}
		for k := range am {
			seen[k] = true
		}
		for k := range bm {
			seen[k] = true
		}
		ks := make([]string, 0, len(seen))
		for k := range seen {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			out = append(out, diff(path+"."+k, am[k], bm[k])...)
		}
		return out
	}
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok && len(as) == len(bs) {
		var out []string
		for i := range as {
			out = append(out, diff(fmt.Sprintf("%s[%d]", path, i), as[i], bs[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(a, b) {
		return []string{fmt.Sprintf("%s: docker %v, swarmrun %v", path, a, b)}
	}
	return nil
}

// object is the comparable part of a network, secret or config.
type object struct {
	Name   string
	Labels map[string]string
	Extra  any
}

func compareObjects(t *testing.T, kind string, theirs, mine []object, docker, ours string) {
	t.Helper()
	a, b := map[string]any{}, map[string]any{}
	for _, o := range theirs {
		o.Labels = withoutSwarmrunLabels(o.Labels)
		a[strings.ReplaceAll(o.Name, docker, "STACK")] = tree(t, o, docker)
	}
	for _, o := range mine {
		o.Labels = withoutSwarmrunLabels(o.Labels)
		b[strings.ReplaceAll(o.Name, ours, "STACK")] = tree(t, o, ours)
	}
	if len(a) == 0 {
		t.Errorf("docker created no %s", kind)
	}
	for _, d := range diff(kind, a, b) {
		t.Error(d)
	}
}

func stackArgs(stack string) filters.Args {
	return filters.NewArgs(filters.Arg("label", swarmtest.NamespaceLabel+"="+stack))
}

func stackNetworks(t *testing.T, c *client.Client, stack string) []object {
	t.Helper()
	nets, err := c.NetworkList(t.Context(), network.ListOptions{Filters: stackArgs(stack)})
	if err != nil {
		t.Fatalf("list networks: %v", err)
	}
	var out []object
	for _, n := range nets {
		// The VXLAN ID is allocated per network: it differs between any two networks.
		opts := map[string]string{}
		for k, v := range n.Options {
			if k != "com.docker.network.driver.overlay.vxlanid_list" {
				opts[k] = v
			}
		}
		out = append(out, object{Name: n.Name, Labels: n.Labels, Extra: map[string]any{
			"Driver": n.Driver, "Scope": n.Scope, "Internal": n.Internal, "Attachable": n.Attachable,
			"Ingress": n.Ingress, "EnableIPv6": n.EnableIPv6, "Options": opts,
		}})
	}
	return out
}

func stackSecrets(t *testing.T, c *client.Client, stack string) []object {
	t.Helper()
	secs, err := c.SecretList(t.Context(), swarm.SecretListOptions{Filters: stackArgs(stack)})
	if err != nil {
		t.Fatalf("list secrets: %v", err)
	}
	var out []object
	for _, s := range secs {
		out = append(out, object{Name: s.Spec.Name, Labels: s.Spec.Labels, Extra: map[string]any{
			"Driver": s.Spec.Driver, "Templating": s.Spec.Templating,
		}})
	}
	return out
}

func stackConfigs(t *testing.T, c *client.Client, stack string) []object {
	t.Helper()
	cfgs, err := c.ConfigList(t.Context(), swarm.ConfigListOptions{Filters: stackArgs(stack)})
	if err != nil {
		t.Fatalf("list configs: %v", err)
	}
	var out []object
	for _, s := range cfgs {
		out = append(out, object{Name: s.Spec.Name, Labels: s.Spec.Labels, Extra: map[string]any{
			"Data": string(s.Spec.Data), "Templating": s.Spec.Templating,
		}})
	}
	return out
}

// TestDiff keeps the parity comparison honest: it must report every differing leaf.
func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b any
		want []string
	}{
		{"equal", map[string]any{"x": 1.0, "y": []any{"a"}}, map[string]any{"x": 1.0, "y": []any{"a"}}, nil},
		{"leaf", map[string]any{"x": 1.0}, map[string]any{"x": 2.0}, []string{"s.x: docker 1, swarmrun 2"}},
		{"only one side", map[string]any{"x": 1.0}, map[string]any{}, []string{"s.x: docker 1, swarmrun <nil>"}},
		{"list element", []any{"a", "b"}, []any{"a", "c"}, []string{"s[1]: docker b, swarmrun c"}},
		{"list length", []any{"a"}, []any{"a", "b"}, []string{"s: docker [a], swarmrun [a b]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := diff("s", tc.a, tc.b)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("diff = %q, want %q", got, tc.want)
			}
		})
	}
}
