package deploy_test

import (
	"errors"
	"testing"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/swarmtest"
)

func TestCheckImages(t *testing.T) {
	boom := errors.New("engine unreachable")
	for _, tc := range []struct {
		name    string
		env     map[string]string
		fail    error // ImageInspect's next answer
		missing []string
		engine  bool // the engine's own error, not an *ImageError
	}{
		{name: "all local"},
		{name: "one missing", env: map[string]string{"IMAGE": "app:none"}, missing: []string{"app:none"}},
		{name: "shared missing image named once", env: map[string]string{"IMAGE": "app:none", "WORKER_IMAGE": "app:none"},
			missing: []string{"app:none"}},
		{name: "engine error", fail: boom, engine: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			if tc.fail != nil {
				f.FailNext("ImageInspect", tc.fail)
			}
			d := deploy.New(deploy.Options{Engine: f})
			infos, err := d.CheckImages(testContext(t), renderStack(t, "s", "testdata/simple", tc.env))
			var ie *deploy.ImageError
			switch {
			case tc.engine:
				if !errors.Is(err, tc.fail) || errors.As(err, &ie) {
					t.Fatalf("check: %v, want the engine's error and no *ImageError", err)
				}
				return
			case len(tc.missing) == 0:
				if err != nil {
					t.Fatalf("check: %v", err)
				}
			default:
				if !errors.As(err, &ie) {
					t.Fatalf("check: %v, want an *ImageError", err)
				}
				var got []string
				for _, p := range ie.Images {
					got = append(got, p.Image)
					if p.Reason == "" {
						t.Errorf("image %s: no reason", p.Image)
					}
				}
				if len(got) != len(tc.missing) || got[0] != tc.missing[0] {
					t.Errorf("missing %v, want %v", got, tc.missing)
				}
			}
			for _, info := range infos {
				if info.Image == swarmtest.ProbeV1 || info.Image == swarmtest.ProbeV2 {
					if !info.Local || info.ID == "" {
						t.Errorf("local image %+v without its ID", info)
					}
				}
			}
			if want := len(tc.missing); f.Calls("DistributionInspect") != want {
				t.Errorf("%d registry lookups, want %d (one per missing image, none for local ones)", f.Calls("DistributionInspect"), want)
			}
		})
	}
}
