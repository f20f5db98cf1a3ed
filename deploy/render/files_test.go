package render

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/deploy/confine"
	"github.com/swarmrun/swarmrun/deploy/recipe/recipetest"
)

const canary = recipetest.Canary

// hostileLayout plants recipetest's canaries and writes the checkout, three levels below the
// data dir as a deploy's directory is, with files and symlinks. It returns the checkout and
// the test's top directory.
func hostileLayout(t *testing.T, files, links map[string]string) (string, string) {
	t.Helper()
	l := recipetest.NewLayout(t)
	if err := os.MkdirAll(l.Checkout, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(l.Checkout, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(l.Checkout, name)); err != nil {
			t.Fatal(err)
		}
	}
	return l.Checkout, l.Top
}

// chain are symlinks each of which looks harmless, b<N> landing N directories above the
// checkout on disk.
var chain = map[string]string{"a0": ".", "b1": "a0/..", "b2": "b1/..", "b3": "b2/..", "b4": "b3/.."}

func withChain(links map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range chain {
		out[k] = v
	}
	for k, v := range links {
		out[k] = v
	}
	return out
}

func TestRenderConfinedRefusesPathsOutside(t *testing.T) {
	const head = "version: \"3.8\"\nservices:\n  app:\n    image: swarmrun-probe:1\n"
	tests := []struct {
		name    string
		files   map[string]string
		links   map[string]string
		opts    Options
		env     func(top string) map[string]string
		wantMsg string // with $TOP for the temporary directory
	}{
		{
			name:    "absolute config file",
			files:   map[string]string{"compose.yml": head + "configs:\n  x:\n    file: /etc/shadow\n"},
			wantMsg: `compose.yml:7: configs.x.file: "/etc/shadow" is outside the recipe checkout`,
		},
		{
			name:    "secret file three levels up: the data dir's secret.key",
			files:   map[string]string{"compose.yml": head + "secrets:\n  s:\n    file: ../../../secret.key\n"},
			wantMsg: `compose.yml:7: secrets.s.file: "../../../secret.key" is outside the recipe checkout`,
		},
		{
			name:  "interpolated secret file",
			files: map[string]string{"compose.yml": head + "secrets:\n  s:\n    file: ${KEY}\n"},
			env: func(top string) map[string]string {
				return map[string]string{"KEY": filepath.Join(top, "data", "secret.key")}
			},
			wantMsg: `compose.yml:7: secrets.s.file: "${KEY} ($TOP/data/secret.key)" is outside the recipe checkout`,
		},
		{
			name:    "absolute env_file",
			files:   map[string]string{"compose.yml": head + "    env_file: [ok.env, /root/host.env]\n", "ok.env": "A=1\n"},
			wantMsg: `compose.yml:5: services.app.env_file: "/root/host.env" is outside the recipe checkout`,
		},
		{
			name:    "env_file climbing out",
			files:   map[string]string{"compose.yml": head + "    env_file: ../../../../canary.txt\n"},
			wantMsg: `compose.yml:5: services.app.env_file: "../../../../canary.txt" is outside the recipe checkout`,
		},
		{
			name:    "config file through a symlink chain",
			files:   map[string]string{"compose.yml": head + "configs:\n  x:\n    file: ./canary\n"},
			links:   withChain(map[string]string{"canary": "b4/canary.txt"}),
			wantMsg: `compose.yml:7: configs.x.file: "canary" is outside the recipe checkout (through a symlink)`,
		},
		{
			name:    "env_file under a symlinked directory",
			files:   map[string]string{"compose.yml": head + "    env_file: up/secret.key\n"},
			links:   withChain(map[string]string{"up": "b3"}),
			wantMsg: `compose.yml:5: services.app.env_file: "up/secret.key" is outside the recipe checkout (through a symlink)`,
		},
		{
			name:    "compose file outside",
			files:   map[string]string{"compose.yml": head},
			opts:    Options{Files: []string{"compose.yml", "../../../secret.key"}},
			wantMsg: `../../../secret.key: "../../../secret.key" is outside the recipe checkout`,
		},
		{
			name:    "compose file that is a symlink out",
			files:   map[string]string{"compose.yml": head},
			links:   map[string]string{"compose.evil.yml": "/etc/passwd"},
			opts:    Options{Files: []string{"compose.yml", "compose.evil.yml"}},
			wantMsg: `compose.evil.yml: "compose.evil.yml" is outside the recipe checkout (through a symlink)`,
		},
		{
			name:    "overlay naming a file outside",
			files:   map[string]string{"compose.yml": head},
			opts:    Options{Files: []string{"compose.yml"}, Overlays: [][]byte{[]byte("configs:\n  x:\n    file: /etc/passwd\n")}},
			wantMsg: `overlay[0]:3: configs.x.file: "/etc/passwd" is outside the recipe checkout`,
		},
		{
			name:    "file over the size limit",
			files:   map[string]string{"compose.yml": head + "configs:\n  x:\n    file: big.conf\n", "big.conf": strings.Repeat("x", confine.MaxFileSize+1)},
			wantMsg: `compose.yml:7: configs.x.file: "big.conf" is larger than 4194304 bytes`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, top := hostileLayout(t, tt.files, tt.links)
			opts := tt.opts
			opts.Stack, opts.Dir = testStack, dir
			if opts.Files == nil {
				opts.Files = []string{"compose.yml"}
			}
			if tt.env != nil {
				opts.Env = tt.env(top)
			}
			st, err := Render(t.Context(), opts)
			var re *Error
			if !errors.Is(err, confine.ErrUnsafe) || !errors.As(err, &re) {
				t.Fatalf("Render = %v, %v; want an *Error matching ErrUnsafe", st, err)
			}
			if want := strings.ReplaceAll(tt.wantMsg, "$TOP", top); err.Error() != want {
				t.Errorf("error = %q\nwant    %q", err.Error(), want)
			}
			if strings.Contains(err.Error(), canary) {
				t.Error("the error carries the canary")
			}
		})
	}
}

// TestRenderConfinedReadsInside: files inside the checkout, also through a symlink that
// stays inside, are read by Render itself, content and all.
func TestRenderConfinedReadsInside(t *testing.T) {
	compose := "version: \"3.8\"\nservices:\n  app:\n    image: swarmrun-probe:1\n    env_file: conf/app.env\n" +
		"    configs: [x]\n    secrets: [s]\nconfigs:\n  x:\n    file: ./linked.conf\nsecrets:\n  s:\n    file: conf/../conf/s.txt\n"
	dir, _ := hostileLayout(t, map[string]string{
		"compose.yml": compose, "conf/app.env": "A=1\n", "conf/x.conf": "xconf", "conf/s.txt": "sdata",
	}, map[string]string{"linked.conf": "conf/x.conf"})
	st, err := Render(t.Context(), Options{Stack: testStack, Dir: dir, Files: []string{"compose.yml"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(st.Configs["test_x"].Data); got != "xconf" {
		t.Errorf("config data = %q", got)
	}
	if got := string(st.Secrets["test_s"].Data); got != "sdata" {
		t.Errorf("secret data = %q", got)
	}
	if got := st.Services["test_app"].TaskTemplate.ContainerSpec.Env; len(got) != 1 || got[0] != "A=1" {
		t.Errorf("env = %q", got)
	}
}

// TestRenderHostPaths: an operator's own compose may name files anywhere, as with docker.
func TestRenderHostPaths(t *testing.T) {
	dir, top := hostileLayout(t, map[string]string{
		"compose.yml": "version: \"3.8\"\nservices:\n  app:\n    image: swarmrun-probe:1\n    env_file: ../../../../host.env\n" +
			"configs:\n  x:\n    file: " + filepath.Join("..", "..", "..", "secret.key") + "\n",
	}, nil)
	if err := os.WriteFile(filepath.Join(top, "host.env"), []byte("H=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	compose := filepath.Join(dir, "compose.yml")
	st, err := Render(t.Context(), Options{Stack: testStack, Dir: filepath.Dir(top), Files: []string{compose}, HostPaths: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(st.Configs["test_x"].Data); got != canary {
		t.Errorf("config data = %q, want the file's", got)
	}
	if got := st.Services["test_app"].TaskTemplate.ContainerSpec.Env; len(got) != 1 || got[0] != "H=1" {
		t.Errorf("env = %q, want the env file's line", got)
	}
}
