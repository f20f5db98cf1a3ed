package backup

import (
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
)

// svc is a rendered service with deploy labels and volume mounts (source → target).
func svc(labels map[string]string, mounts ...string) swarm.ServiceSpec {
	cs := &swarm.ContainerSpec{Image: "img"}
	for i := 0; i+1 < len(mounts); i += 2 {
		cs.Mounts = append(cs.Mounts, mount.Mount{Type: mount.TypeVolume, Source: mounts[i], Target: mounts[i+1]})
	}
	return swarm.ServiceSpec{Annotations: swarm.Annotations{Labels: labels}, TaskTemplate: swarm.TaskSpec{ContainerSpec: cs}}
}

func TestPlanOf(t *testing.T) {
	on := func(kv ...string) map[string]string {
		m := map[string]string{LabelBackup: "true"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name     string
		services map[string]swarm.ServiceSpec
		want     []Service
		note     string
		err      string
	}{
		{"no labels", map[string]swarm.ServiceSpec{"s_app": svc(nil, "s_data", "/data")}, nil, "", ""},
		{"false is off", map[string]swarm.ServiceSpec{"s_app": svc(map[string]string{LabelBackup: "false"}, "s_data", "/data")}, nil, "", ""},
		{"every volume by default, binds and other stacks' volumes left out",
			map[string]swarm.ServiceSpec{"s_app": func() swarm.ServiceSpec {
				sp := svc(on(), "s_data", "/data", "s_cache", "/cache", "other_x", "/x")
				sp.TaskTemplate.ContainerSpec.Mounts = append(sp.TaskTemplate.ContainerSpec.Mounts, mount.Mount{Type: mount.TypeBind, Source: "/srv", Target: "/srv"})
				return sp
			}()},
			[]Service{{Name: "s_app", Paths: []Path{{Volume: "s_data", Target: "/data"}, {Volume: "s_cache", Target: "/cache"}}}}, "", ""},
		{"a volume left out, another limited to paths",
			map[string]swarm.ServiceSpec{"s_db": svc(on(LabelVolumesPrefix+"cache", "false", LabelVolumesPrefix+"data.path", "backup.sql, dumps/ ,"),
				"s_data", "/var/lib/db", "s_cache", "/cache")},
			[]Service{{Name: "s_db", Paths: []Path{{Volume: "s_data", Target: "/var/lib/db", Rel: "backup.sql"}, {Volume: "s_data", Target: "/var/lib/db", Rel: "dumps"}}}}, "", ""},
		{"an absolute .path under the mount is a container path, another is relative to the root",
			map[string]swarm.ServiceSpec{"s_search": svc(on(LabelVolumesPrefix+"meili.path", "/meili_data/dumps,/snapshots"), "s_meili", "/meili_data")},
			[]Service{{Name: "s_search", Paths: []Path{{Volume: "s_meili", Target: "/meili_data", Rel: "dumps"}, {Volume: "s_meili", Target: "/meili_data", Rel: "snapshots"}}}}, "", ""},
		{"hooks", map[string]swarm.ServiceSpec{"s_app": svc(on(LabelPreHook, "dump", LabelPostHook, "rm dump", LabelRestorePreHook, "stop", LabelRestorePostHook, "load"), "s_data", "/data")},
			[]Service{{Name: "s_app", Hooks: Hooks{BackupPre: "dump", BackupPost: "rm dump", RestorePre: "stop", RestorePost: "load"},
				Paths: []Path{{Volume: "s_data", Target: "/data"}}}}, "", ""},
		{"the old path form maps onto the deepest volume",
			map[string]swarm.ServiceSpec{"s_app": svc(on(LabelPath, "/var/www/html/uploads,/var/www"), "s_www", "/var/www", "s_up", "/var/www/html/uploads")},
			[]Service{{Name: "s_app", Paths: []Path{{Volume: "s_up", Target: "/var/www/html/uploads"}, {Volume: "s_www", Target: "/var/www"}}}}, "", ""},
		{"two services, one path shared", map[string]swarm.ServiceSpec{
			"s_app": svc(on(LabelPreHook, "x"), "s_data", "/data"), "s_db": svc(on(), "s_data", "/data", "s_db", "/db")},
			[]Service{{Name: "s_app", Hooks: Hooks{BackupPre: "x"}, Paths: []Path{{Volume: "s_data", Target: "/data"}}},
				{Name: "s_db", Paths: []Path{{Volume: "s_db", Target: "/db"}}}}, "is on 2 services", ""},
		{"container labels are noted", map[string]swarm.ServiceSpec{"s_app": func() swarm.ServiceSpec {
			sp := svc(nil, "s_data", "/data")
			sp.TaskTemplate.ContainerSpec.Labels = map[string]string{LabelBackup: "true"}
			return sp
		}()}, nil, "is a container label", ""},
		{"a .. leaving the volume", map[string]swarm.ServiceSpec{"s_app": svc(on(LabelVolumesPrefix+"data.path", "../etc"), "s_data", "/data")},
			[]Service{{Name: "s_app"}}, "", `s_app: backupbot.backup.volumes.data.path: "../etc" leaves the volume`},
		{"an old-form path on no volume", map[string]swarm.ServiceSpec{"s_app": svc(on(LabelPath, "/etc,relative"), "s_data", "/data")},
			[]Service{{Name: "s_app"}}, "", `/etc is on no volume of the stack that the service mounts; s_app: backupbot.backup.path: "relative" is not an absolute path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlanOf("s", tt.services)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if !reflect.DeepEqual(p.Services, tt.want) {
				t.Errorf("services = %+v\nwant       %+v", p.Services, tt.want)
			}
			if p.Applicable() != (len(tt.want) > 0) {
				t.Errorf("applicable = %t", p.Applicable())
			}
			notes := strings.Join(p.Notes, "\n")
			if tt.note != "" && !strings.Contains(notes, tt.note) || tt.note == "" && notes != "" {
				t.Errorf("notes %q, want %q", notes, tt.note)
			}
		})
	}
}

func TestPathNames(t *testing.T) {
	p := Path{Volume: "s_data", Target: "/data", Rel: "dumps/a"}
	if got := p.InContainer(); got != "/data/dumps/a" {
		t.Errorf("in container %q", got)
	}
	if got := p.InArchive(); got != "var/lib/docker/volumes/s_data/_data/dumps/a" {
		t.Errorf("in archive %q", got)
	}
	whole := Path{Volume: "s_data", Target: "/data"}
	if got := whole.InArchive(); got != "var/lib/docker/volumes/s_data/_data" {
		t.Errorf("whole volume in archive %q", got)
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"/probe -check http://127.0.0.1:8080/data/dump -put dumped", []string{"/probe", "-check", "http://127.0.0.1:8080/data/dump", "-put", "dumped"}, false},
		{`a 'b c' "d e"`, []string{"a", "b c", "d e"}, false},
		{`a '$HOME'`, []string{"a", "$HOME"}, false},
		{`a "$HOME"`, nil, true},
		{"pg_dump > /dump.sql", nil, true},
		{"a; b", nil, true},
		{"a | b", nil, true},
		{"echo $X", nil, true},
		{"'unclosed", nil, true},
		{"   ", nil, true},
	}
	for _, tt := range tests {
		got, err := splitWords(tt.in)
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q, error %t", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestStripShell(t *testing.T) {
	for in, want := range map[string]string{
		`bash -c "/pg_backup.sh backup"`: "/pg_backup.sh backup",
		`sh -c 'a | b'`:                  "a | b",
		"/pg_backup.sh backup":           "/pg_backup.sh backup",
		"  bash -c x  ":                  "x",
	} {
		if got := stripShell(in); got != want {
			t.Errorf("stripShell(%q) = %q, want %q", in, got, want)
		}
	}
}
