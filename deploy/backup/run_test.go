package backup

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"

	"github.com/swarmrun/swarmrun/deploy/fake"
	"github.com/swarmrun/swarmrun/internal/testkit"
)

const img = "swarmrun-probe:1"

// stackEnv is one service s_app mounting the volume s_data at /data on the fake engine.
type stackEnv struct {
	t     *testing.T
	f     *fake.Fake
	r     *Runner
	spec  swarm.ServiceSpec
	ctr   string
	mu    sync.Mutex
	execs [][]string
	// failExec makes execs whose command contains it exit 3.
	failExec string
}

func newStackEnv(t *testing.T, labels map[string]string) *stackEnv {
	t.Helper()
	e := &stackEnv{t: t, f: fake.New(fake.Options{Images: []string{img}})}
	e.f.SetExec(func(_ string, cmd []string) fake.ExecResult {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.execs = append(e.execs, cmd)
		if e.failExec != "" && strings.Contains(strings.Join(cmd, " "), e.failExec) {
			return fake.ExecResult{ExitCode: 3, Stdout: "failed on purpose"}
		}
		return fake.ExecResult{Stdout: "ran"}
	})
	e.r = NewRunner(Options{Engine: e.f})
	e.spec = svc(labels, "s_data", "/data")
	e.spec.Name = "s_app"
	e.spec.TaskTemplate.ContainerSpec.Image = img
	if _, err := e.f.ServiceCreate(t.Context(), e.spec, swarm.ServiceCreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cs, err := e.f.ContainerList(t.Context(), container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name=s_app"))})
	if err != nil || len(cs) != 1 {
		t.Fatalf("container of s_app: %v %v", err, cs)
	}
	e.ctr = cs[0].ID
	return e
}

func (e *stackEnv) plan() Plan {
	e.t.Helper()
	p, err := PlanOf("s", map[string]swarm.ServiceSpec{"s_app": e.spec})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *stackEnv) put(dir string, files map[string]string) {
	e.t.Helper()
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		for _, name := range slices.Sorted(maps.Keys(files)) {
			_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(files[name]))})
			_, _ = io.WriteString(tw, files[name])
		}
		pw.CloseWithError(tw.Close())
	}()
	if err := e.f.CopyToContainer(e.t.Context(), e.ctr, dir, pr, container.CopyToContainerOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *stackEnv) read(p string) string {
	e.t.Helper()
	got, err := e.r.readFile(e.t.Context(), e.ctr, p)
	if err != nil {
		e.t.Fatalf("read %s: %v", p, err)
	}
	return got
}

func failed(res *Result) string {
	for _, s := range res.Steps {
		if s.Failed {
			return s.Name + ": " + s.Message
		}
	}
	return ""
}

func names(res *Result) []string {
	var out []string
	for _, s := range res.Steps {
		out = append(out, s.Name)
	}
	return out
}

// TestBackupRestoreRoundTrip: the backup holds the volume with its marker, under the
// volume's host path, and the marker differs afterwards; the restore puts it back, the
// files changed since read as before, and the hooks ran in order.
func TestBackupRestoreRoundTrip(t *testing.T) {
	e := newStackEnv(t, map[string]string{LabelBackup: "true", LabelPreHook: "/probe -dump", LabelPostHook: "/probe -done",
		LabelRestorePreHook: "/probe -stop", LabelRestorePostHook: "/probe -load"})
	e.put("/data", map[string]string{"k": "v1"})
	archive := filepath.Join(t.TempDir(), "backup", "s.tar.gz")

	res := e.r.Backup(t.Context(), BackupRequest{Plan: e.plan(), Archive: archive, Nonce: "n1"})
	if f := failed(res); f != "" {
		t.Fatalf("backup failed at %s; steps %q", f, names(res))
	}
	want := []string{"backup: marker in s_data:/", "backup: pre-hook app", "backup: archive", "backup: post-hook app",
		"backup: markers in the archive", "backup: markers changed"}
	if got := names(res); !slices.Equal(got, want) {
		t.Errorf("steps %q, want %q", got, want)
	}
	if res.Archive == nil || res.Archive.Path != archive {
		t.Fatalf("archive %+v", res.Archive)
	}
	if sum, size, err := digest(archive); err != nil || sum != res.Archive.SHA256 || size != res.Archive.Size {
		t.Errorf("digest %s %d %v, recorded %+v", sum, size, err, res.Archive)
	}
	got := testkit.TarGzFiles(t, archive)
	root := "var/lib/docker/volumes/s_data/_data"
	if got[root+"/k"] != "v1" || got[root+"/"+MarkerName] != MarkerBefore("n1") {
		t.Errorf("archive holds %v", got)
	}
	if m := e.read("/data/" + MarkerName); m != MarkerAfter("n1") {
		t.Errorf("marker after the backup %q, want it changed", m)
	}

	e.put("/data", map[string]string{"k": "changed", "new": "added after the backup"})
	rres := e.r.Restore(t.Context(), RestoreRequest{Plan: e.plan(), Archive: archive, SHA256: res.Archive.SHA256, Nonce: "n1"})
	if f := failed(rres); f != "" {
		t.Fatalf("restore failed at %s", f)
	}
	want = []string{"restore: archive", "restore: pre-hook app", "restore: put back", "restore: post-hook app", "restore: markers back"}
	if got := names(rres); !slices.Equal(got, want) {
		t.Errorf("steps %q, want %q", got, want)
	}
	if got := e.read("/data/k"); got != "v1" {
		t.Errorf("k after the restore %q, want v1", got)
	}
	if got := e.read("/data/new"); got != "added after the backup" {
		t.Errorf("a file added after the backup reads %q: restore keeps it, as backupbot's does", got)
	}
	var hooks []string
	for _, c := range e.execs {
		hooks = append(hooks, c[len(c)-1])
	}
	if !slices.Equal(hooks, []string{"-dump", "-done", "-stop", "-load"}) {
		t.Errorf("hooks ran %q, want pre, post, restore pre, restore post (no shell in the image: words run directly)", e.execs)
	}
}

// TestRestoreProvesItself: a restore that does not put the files back fails at the marker,
// and an archive that changed since the backup is refused.
func TestRestoreProvesItself(t *testing.T) {
	e := newStackEnv(t, map[string]string{LabelBackup: "true"})
	archive := filepath.Join(t.TempDir(), "s.tar.gz")
	res := e.r.Backup(t.Context(), BackupRequest{Plan: e.plan(), Archive: archive, Nonce: "n"})
	if f := failed(res); f != "" {
		t.Fatal(f)
	}
	// A plan whose path the archive does not hold puts nothing back.
	other := e.plan()
	other.Services[0].Paths[0].Rel = "elsewhere"
	rres := e.r.Restore(t.Context(), RestoreRequest{Plan: other, Archive: archive, SHA256: res.Archive.SHA256, Nonce: "n"})
	if f := failed(rres); !strings.Contains(f, "the backup holds nothing of s_data:/elsewhere") {
		t.Errorf("restore of a path the backup lacks: %q", f)
	}
	if m := e.read("/data/" + MarkerName); m != MarkerAfter("n") {
		t.Errorf("marker %q after a restore that put nothing back, want it still changed", m)
	}

	if err := os.WriteFile(archive, []byte("tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	rres = e.r.Restore(t.Context(), RestoreRequest{Plan: e.plan(), Archive: archive, SHA256: res.Archive.SHA256, Nonce: "n"})
	if f := failed(rres); !strings.Contains(f, "the backup recorded "+res.Archive.SHA256) || len(rres.Steps) != 1 {
		t.Errorf("restore of a changed archive: %q after %q", f, names(rres))
	}
}

// TestBackupFailures: a failing pre-hook stops the backup before anything is copied and runs
// no post-hook; a path missing after the pre-hooks fails the archive but still runs the
// post-hooks; an archive over the bound is refused and leaves no file.
func TestBackupFailures(t *testing.T) {
	t.Run("pre-hook", func(t *testing.T) {
		e := newStackEnv(t, map[string]string{LabelBackup: "true", LabelPreHook: "/probe -dump", LabelPostHook: "/probe -done"})
		e.failExec = "-dump"
		archive := filepath.Join(t.TempDir(), "s.tar.gz")
		res := e.r.Backup(t.Context(), BackupRequest{Plan: e.plan(), Archive: archive, Nonce: "n"})
		if f := failed(res); !strings.Contains(f, `backup: pre-hook app: backup: pre-hook "/probe -dump" exited with code 3`) {
			t.Errorf("failure %q", f)
		}
		if len(e.execs) != 1 || res.Archive != nil {
			t.Errorf("after a failed pre-hook: execs %q, archive %v", e.execs, res.Archive)
		}
		if _, err := os.Stat(archive); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("archive written: %v", err)
		}
	})
	t.Run("missing path", func(t *testing.T) {
		e := newStackEnv(t, map[string]string{LabelBackup: "true", LabelVolumesPrefix + "data.path": "dump.sql", LabelPostHook: "/probe -done"})
		res := e.r.Backup(t.Context(), BackupRequest{Plan: e.plan(), Archive: filepath.Join(t.TempDir(), "s.tar.gz"), Nonce: "n"})
		if f := failed(res); !strings.Contains(f, "s_data:/dump.sql (/data/dump.sql in s_app) does not exist after the pre-hooks") {
			t.Errorf("failure %q", f)
		}
		if len(e.execs) != 1 {
			t.Errorf("post-hook not run after a failed copy: %q", e.execs)
		}
		if !strings.Contains(res.Steps[0].Message, "no marker: /data/dump.sql does not exist before the pre-hooks") {
			t.Errorf("marker step %+v", res.Steps[0])
		}
	})
	t.Run("too large", func(t *testing.T) {
		e := newStackEnv(t, map[string]string{LabelBackup: "true"})
		e.put("/data", map[string]string{"big": strings.Repeat("x", 4096)})
		e.r.maxArchive = 2048
		dir := t.TempDir()
		res := e.r.Backup(t.Context(), BackupRequest{Plan: e.plan(), Archive: filepath.Join(dir, "s.tar.gz"), Nonce: "n"})
		if f := failed(res); !strings.Contains(f, "backup too large: more than 0 MiB") {
			t.Errorf("failure %q", f)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("left %v in the archive's directory", left)
		}
	})
}

// TestHookShell: bash when the image has it (with pipefail), sh without, words with neither;
// a hook that needs a shell on an image without one fails naming why.
func TestHookShell(t *testing.T) {
	for _, tt := range []struct {
		name  string
		files map[string]string
		hook  string
		want  []string
		err   string
	}{
		{"bash", map[string]string{"/bin/bash": "", "/bin/sh": ""}, `bash -c "pg_dump > /d"`, []string{"/bin/bash", "-c", "set -o pipefail;pg_dump > /d"}, ""},
		{"sh", map[string]string{"/bin/sh": ""}, "pg_dump > /d", []string{"/bin/sh", "-c", "pg_dump > /d"}, ""},
		{"none", nil, "/probe -x 'a b'", []string{"/probe", "-x", "a b"}, ""},
		{"none, needs one", nil, "pg_dump > /d", nil, "the container has no shell"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New(fake.Options{Images: []string{img}})
			f.SetImageFiles(img, tt.files)
			resp, err := f.ContainerCreate(t.Context(), &container.Config{Image: img}, nil, nil, nil, "c")
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := NewRunner(Options{Engine: f}).hookCommand(t.Context(), resp.ID, tt.hook)
			if !slices.Equal(got, tt.want) || (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("hookCommand = %q, %v; want %q, %q", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestCopyVolumes: the target volume gets the source's files and its labels, the source is
// untouched, and the helper container is gone afterwards, a leftover of an earlier copy too.
func TestCopyVolumes(t *testing.T) {
	e := newStackEnv(t, nil)
	e.put("/data", map[string]string{"k": "warm data"})
	e.put("/data", map[string]string{"sub/x": "deep"})
	ctx := context.Background()
	if _, err := e.f.ContainerCreate(ctx, &container.Config{Image: img}, nil, nil, nil, "run_copy"); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"com.docker.stack.namespace": "run", "owner": "me"}
	copied, err := e.r.CopyVolumes(t.Context(), CopyRequest{Image: img, Name: "run_copy",
		Copies: []VolumeCopy{{From: "s_data", To: "run_data", Labels: labels}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(copied) != 1 || copied[0].Entries != 3 || copied[0].Bytes == 0 {
		t.Errorf("copied %+v, want 3 entries (k, sub, sub/x)", copied)
	}
	vols, _ := e.f.VolumeList(t.Context(), volume.ListOptions{Filters: filters.NewArgs(filters.Arg("name", "run_data"))})
	if len(vols.Volumes) != 1 || !maps.Equal(vols.Volumes[0].Labels, labels) {
		t.Errorf("target volume %+v", vols.Volumes)
	}
	all, _ := e.f.ContainerList(t.Context(), container.ListOptions{All: true})
	for _, c := range all {
		if c.State == container.StateCreated {
			t.Errorf("helper container left: %+v", c)
		}
	}
	// Read the copy through a container of its own.
	resp, err := e.f.ContainerCreate(ctx, &container.Config{Image: img},
		&container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: "run_data", Target: "/d"}}}, nil, nil, "reader")
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"/d/k": "warm data", "/d/sub/x": "deep"} {
		if got, err := e.r.readFile(t.Context(), resp.ID, p); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", p, got, err, want)
		}
	}
	if _, err := e.r.CopyVolumes(t.Context(), CopyRequest{Image: img, Name: "x", Copies: []VolumeCopy{{From: "missing", To: "y"}}}); err == nil ||
		!strings.Contains(err.Error(), "volume missing does not exist") {
		t.Errorf("copy from a missing volume: %v", err)
	}
}
