package deploy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/api/types/swarm"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

var ownership = map[string]string{"swarmrun.dev/managed-by": "swarmrun"}

// actions maps "kind/name" to the action of every change in cs.
func actions(cs *deploy.ChangeSet) map[string]deploy.Action {
	out := map[string]deploy.Action{}
	for _, l := range [][]deploy.Change{cs.Networks, cs.Secrets, cs.Configs, cs.Services} {
		for _, c := range l {
			out[c.Kind+"/"+c.Name] = c.Action
		}
	}
	return out
}

func simpleActions(stack string, a deploy.Action) map[string]deploy.Action {
	return map[string]deploy.Action{
		"network/" + stack + "_net":    a,
		"secret/" + stack + "_token":   a,
		"config/" + stack + "_conf":    a,
		"service/" + stack + "_web":    a,
		"service/" + stack + "_worker": a,
	}
}

func assertActions(t *testing.T, got, want map[string]deploy.Action) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: action %q, want %q", k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected change %s: %s", k, got[k])
		}
	}
}

func sameKeys(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestApplyReapplyMakesNoCalls(t *testing.T) {
	f := newFake(t)
	d := deploy.New(deploy.Options{Engine: f})
	ctx := testContext(t)
	st := renderStack(t, "s", "testdata/simple", nil)

	cs, err := d.Apply(ctx, st, deploy.ApplyOptions{Labels: ownership})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	assertActions(t, actions(cs), simpleActions("s", deploy.Created))
	want := map[string]int{"NetworkCreate": 1, "SecretCreate": 1, "ConfigCreate": 1, "ServiceCreate": 2}
	if got := mutationCalls(f); !equalCounts(got, want) {
		t.Errorf("first apply calls %v, want %v", got, want)
	}

	f.ResetCalls()
	cs, err = d.Apply(ctx, renderStack(t, "s", "testdata/simple", nil), deploy.ApplyOptions{Labels: ownership})
	if err != nil {
		t.Fatalf("re-apply: %v", err)
	}
	assertActions(t, actions(cs), simpleActions("s", deploy.Unchanged))
	if got := mutationCalls(f); len(got) != 0 {
		t.Errorf("re-apply made calls %v, want none", got)
	}
	for _, c := range cs.Services {
		if c.PrevVersion == 0 || c.ID == "" {
			t.Errorf("unchanged service %s: PrevVersion %d, ID %q; want the live ones", c.Name, c.PrevVersion, c.ID)
		}
	}

	// Other ownership labels: a label-only update of every service, nothing created.
	f.ResetCalls()
	cs, err = d.Apply(ctx, st, deploy.ApplyOptions{Labels: map[string]string{"swarmrun.dev/role": "head"}})
	if err != nil {
		t.Fatalf("apply with other labels: %v", err)
	}
	if _, updated, _ := cs.Count(); updated != 2 {
		t.Errorf("updated %d services after a label change, want 2", updated)
	}
	if got, want := mutationCalls(f), map[string]int{"ServiceUpdate": 2}; !equalCounts(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestApplyUpdatePassesVersionAndKeepsForceUpdate(t *testing.T) {
	f := newFake(t)
	d := deploy.New(deploy.Options{Engine: f})
	ctx := testContext(t)
	if _, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", nil), deploy.ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	// Someone forced an update by hand: the counter must survive the next apply.
	web := fakeService(t, f, "s_web")
	spec := web.Spec
	spec.TaskTemplate.ForceUpdate = 5
	if _, err := f.ServiceUpdate(ctx, web.ID, web.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	web = fakeService(t, f, "s_web")

	type update struct {
		version swarm.Version
		spec    swarm.ServiceSpec
		opts    swarm.ServiceUpdateOptions
	}
	var got []update
	f.SetHook("ServiceUpdate", func(_ context.Context, c fake.Call) error {
		got = append(got, update{c.Args[1].(swarm.Version), c.Args[2].(swarm.ServiceSpec), c.Args[3].(swarm.ServiceUpdateOptions)})
		return nil
	})
	cs, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", map[string]string{"IMAGE": swarmtest.ProbeV2}), deploy.ApplyOptions{})
	if err != nil {
		t.Fatalf("apply v2: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("%d update calls, want 1 (web only)", len(got))
	}
	if got[0].version != web.Version {
		t.Errorf("update with version %v, want the observed %v", got[0].version, web.Version)
	}
	if got[0].spec.TaskTemplate.ForceUpdate != 5 {
		t.Errorf("update with ForceUpdate %d, want the live 5", got[0].spec.TaskTemplate.ForceUpdate)
	}
	if got[0].opts.QueryRegistry {
		t.Errorf("update of a local image asked the registry")
	}
	for _, c := range cs.Services {
		if c.Name == "s_web" && (c.Action != deploy.Updated || c.PrevVersion != web.Version.Index) {
			t.Errorf("web change %+v, want updated from version %d", c, web.Version.Index)
		}
	}
}

func fakeService(t *testing.T, f *fake.Fake, name string) swarm.Service {
	t.Helper()
	s, _, err := f.ServiceInspectWithRaw(t.Context(), name, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatalf("inspect %s: %v", name, err)
	}
	return s
}

func TestApplyBoundsParallelism(t *testing.T) {
	const limit, services = 3, 12
	f := newFake(t)
	d := deploy.New(deploy.Options{Engine: f, Parallelism: limit})
	var (
		mu       sync.Mutex
		inflight int
		peak     int
		over     = make(chan struct{})
		once     sync.Once
	)
	// Each create holds until more than limit creates are in flight, or 200ms passed: an
	// unbounded Apply gets there at once (peak above limit), a bounded one never does (peak
	// limit, in waves), a sequential one peaks at 1.
	f.SetHook("ServiceCreate", func(context.Context, fake.Call) error {
		mu.Lock()
		inflight++
		peak = max(peak, inflight)
		if inflight > limit {
			once.Do(func() { close(over) })
		}
		mu.Unlock()
		select {
		case <-over:
		case <-time.After(200 * time.Millisecond):
		}
		mu.Lock()
		inflight--
		mu.Unlock()
		return nil
	})
	cs, err := d.Apply(testContext(t), renderStack(t, "p", manyServices(t, services), nil), deploy.ApplyOptions{})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if created, _, _ := cs.Count(); created != services {
		t.Errorf("created %d services, want %d", created, services)
	}
	if peak != limit {
		t.Errorf("peak of %d creates in flight, want %d", peak, limit)
	}
}

func TestApplyFailsBeforeTouchingAnything(t *testing.T) {
	for _, tc := range []struct {
		name   string
		engine func(*fake.Fake) deploy.Engine
		env    map[string]string
		check  func(t *testing.T, err error)
	}{
		{"not a manager", func(f *fake.Fake) deploy.Engine { return notManager{f} }, nil, func(t *testing.T, err error) {
			if !errors.Is(err, deploy.ErrNotManager) {
				t.Errorf("apply: %v, want ErrNotManager", err)
			}
		}},
		{"missing image", func(f *fake.Fake) deploy.Engine { return f }, map[string]string{"WORKER_IMAGE": "app:none", "IMAGE": "web:none"}, func(t *testing.T, err error) {
			var ie *deploy.ImageError
			if !errors.As(err, &ie) {
				t.Fatalf("apply: %v, want an *ImageError", err)
			}
			if len(ie.Images) != 2 || ie.Images[0].Image != "app:none" || ie.Images[1].Image != "web:none" ||
				ie.Images[0].Services[0] != "s_worker" || ie.Images[0].Reason == "" {
				t.Errorf("image problems %+v, want app:none (s_worker) and web:none with reasons", ie.Images)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			d := deploy.New(deploy.Options{Engine: tc.engine(f)})
			cs, err := d.Apply(testContext(t), renderStack(t, "s", "testdata/simple", tc.env), deploy.ApplyOptions{})
			tc.check(t, err)
			if cs != nil {
				t.Errorf("change set %+v from a refused apply", cs)
			}
			if got := mutationCalls(f); len(got) != 0 {
				t.Errorf("a refused apply made calls %v", got)
			}
		})
	}
}

func TestApplyChangedSecretTouchesNothing(t *testing.T) {
	f := newFake(t)
	d := deploy.New(deploy.Options{Engine: f})
	ctx := testContext(t)
	secretFile := filepath.Join(t.TempDir(), "token")
	writeFile(t, secretFile, "one")
	if _, err := d.Apply(ctx, renderStack(t, "s", "testdata/simple", map[string]string{"SECRET_FILE": secretFile}), deploy.ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	writeFile(t, secretFile, "two")
	f.ResetCalls()
	overlay := []byte("version: \"3.8\"\nservices:\n  extra:\n    image: swarmrun-probe:1\n    networks: [extra]\nnetworks:\n  extra: {}\n")
	st, err := renderWithOverlay(t, "s", "testdata/simple", map[string]string{"SECRET_FILE": secretFile, "IMAGE": swarmtest.ProbeV2}, overlay)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Apply(ctx, st, deploy.ApplyOptions{})
	var ie *deploy.ImmutableError
	if !errors.As(err, &ie) || ie.Kind != deploy.KindSecret || ie.Name != "s_token" {
		t.Fatalf("apply: %v, want an *ImmutableError for secret s_token", err)
	}
	if got := mutationCalls(f); len(got) != 0 {
		t.Errorf("a refused apply made calls %v", got)
	}
}

func TestApplyReportsEveryFailedService(t *testing.T) {
	f := newFake(t)
	d := deploy.New(deploy.Options{Engine: f, Parallelism: 1})
	boom := errors.New("boom")
	f.FailNext("ServiceCreate", boom)
	cs, err := d.Apply(testContext(t), renderStack(t, "s", "testdata/simple", nil), deploy.ApplyOptions{})
	if !errors.Is(err, boom) {
		t.Fatalf("apply: %v, want the engine's error", err)
	}
	if cs == nil || len(cs.Services) != 1 || cs.Services[0].Action != deploy.Created || len(cs.Networks) != 1 {
		t.Errorf("change set %+v, want the network and the one service that was created", cs)
	}
}

func TestApplyPullableImageIsResolvedByTheEngine(t *testing.T) {
	f := newFake(t)
	const remote = "registry.example.org/app:1"
	f.SetDistribution(remote, registry.DistributionInspect{Descriptor: ocispec.Descriptor{Digest: "sha256:0123"}}, nil)
	var query = map[string]bool{}
	var mu sync.Mutex
	f.SetHook("ServiceCreate", func(_ context.Context, c fake.Call) error {
		mu.Lock()
		defer mu.Unlock()
		query[c.Args[0].(swarm.ServiceSpec).Name] = c.Args[1].(swarm.ServiceCreateOptions).QueryRegistry
		return nil
	})
	d := deploy.New(deploy.Options{Engine: f})
	cs, err := d.Apply(testContext(t), renderStack(t, "s", "testdata/simple", map[string]string{"IMAGE": remote}), deploy.ApplyOptions{})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if !query["s_web"] || query["s_worker"] {
		t.Errorf("QueryRegistry by service %v, want only the remote image's service", query)
	}
	for _, img := range cs.Images {
		switch img.Image {
		case remote:
			if img.Local || img.Digest != "sha256:0123" {
				t.Errorf("remote image info %+v, want its registry digest", img)
			}
		case swarmtest.ProbeV2:
			if !img.Local || img.ID == "" || img.Digest != "" {
				t.Errorf("local image info %+v, want its local ID only", img)
			}
		default:
			t.Errorf("unexpected image %s", img.Image)
		}
	}
	if f.Calls("DistributionInspect") != 1 {
		t.Errorf("%d registry lookups, want 1 (local images are never looked up)", f.Calls("DistributionInspect"))
	}
}
