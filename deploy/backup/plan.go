package backup

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
)

// The deploy labels backup-bot-two reads. Sources: the Co-op Cloud backup specification
// (verified text, see the package doc) for backupbot.backup, the volume forms and the four
// hooks; backup-bot-two 1.x for the older backupbot.backup.path form.
const (
	// LabelBackup set to true on a service enables backups of its stack.
	LabelBackup = "backupbot.backup"
	// LabelPath is the older form: absolute paths in the service's container, comma
	// separated, each on a volume the service mounts.
	LabelPath = "backupbot.backup.path"
	// LabelPreHook and LabelPostHook run in the service's container before and after the
	// files are copied out.
	LabelPreHook  = "backupbot.backup.pre-hook"
	LabelPostHook = "backupbot.backup.post-hook"
	// LabelRestorePreHook and LabelRestorePostHook run in the service's container before
	// and after the files are put back.
	LabelRestorePreHook  = "backupbot.restore.pre-hook"
	LabelRestorePostHook = "backupbot.restore.post-hook"
	// LabelVolumesPrefix starts the per-volume labels: backupbot.backup.volumes.<volume>=false
	// leaves a volume out, backupbot.backup.volumes.<volume>.path=a,b limits it to those
	// paths, relative to the volume's root. <volume> is the compose key, without the stack.
	LabelVolumesPrefix = "backupbot.backup.volumes."
)

// Plan is what a backup of one stack covers, read from its services' deploy labels.
type Plan struct {
	Stack string
	// Services are the services labelled backupbot.backup=true, by full name.
	Services []Service
	// Notes say where the labels were read otherwise than a strict reading of the
	// specification would, or were ignored.
	Notes []string
}

// Applicable reports whether the stack asks for backups at all.
func (p Plan) Applicable() bool { return len(p.Services) > 0 }

// Paths are every path of the plan, each once, in service order.
func (p Plan) Paths() []Path {
	var out []Path
	for _, s := range p.Services {
		out = append(out, s.Paths...)
	}
	return out
}

// Service is one service a backup covers: its hooks and its paths.
type Service struct {
	// Name is the full service name (<stack>_<service>).
	Name  string
	Hooks Hooks
	// Paths are the paths this service's container gives the backup (none when another
	// service already gives the same path, or when the service only has hooks).
	Paths []Path
}

// Hooks are the commands a service's labels ask to run in its container; empty when unset.
type Hooks struct {
	BackupPre, BackupPost, RestorePre, RestorePost string
}

// Path is one backed-up path: a volume of the stack, and a path inside it.
type Path struct {
	// Volume is the full volume name (<stack>_<key>); Target is where the service mounts it.
	Volume, Target string
	// Rel is the path inside the volume, relative to its root; empty for the whole volume.
	Rel string
}

// InContainer is the path in the service's container.
func (p Path) InContainer() string { return path.Join(p.Target, p.Rel) }

// InArchive is where the path lies in a backup archive: under
// var/lib/docker/volumes/<stack>_<volume>/_data, the volume's place on the host, as the
// specification asks of a .tar.gz backup and as backup-bot-two restores from its snapshots.
func (p Path) InArchive() string {
	return path.Join("var/lib/docker/volumes", p.Volume, "_data", p.Rel)
}

// String names the path for messages: volume:/rel.
func (p Path) String() string { return p.Volume + ":/" + p.Rel }

// PlanOf reads the backup labels of a rendered stack's services. Only deploy labels count:
// backup-bot-two reads the swarm service's labels, so backupbot.* container labels are
// ignored, with a note. A service labelled backupbot.backup=true gives its hooks, and its
// paths: the old backupbot.backup.path form when set, else every volume of the stack it
// mounts, less those labelled =false, each limited to its .path entries when given. The
// specification wants the label on one service only; recipes put it on several (bonfire: app
// and db), so several are accepted, with a note. Paths the labels make unusable (a .. that
// leaves the volume, an old-form path on no volume) are an error naming the label.
func PlanOf(stack string, services map[string]swarm.ServiceSpec) (Plan, error) {
	p := Plan{Stack: stack}
	seen := map[Path]bool{}
	var errs []string
	for _, name := range slices.Sorted(maps.Keys(services)) {
		spec := services[name]
		if cs := spec.TaskTemplate.ContainerSpec; cs != nil && !enabled(spec.Labels) {
			for k := range cs.Labels {
				if strings.HasPrefix(k, "backupbot.") {
					p.Notes = append(p.Notes, fmt.Sprintf("%s: %s is a container label; backupbot reads deploy labels only, so it is ignored", name, k))
					break
				}
			}
		}
		if !enabled(spec.Labels) {
			continue
		}
		svc := Service{Name: name, Hooks: Hooks{
			BackupPre: spec.Labels[LabelPreHook], BackupPost: spec.Labels[LabelPostHook],
			RestorePre: spec.Labels[LabelRestorePreHook], RestorePost: spec.Labels[LabelRestorePostHook],
		}}
		paths, err := servicePaths(stack, name, spec)
		if err != nil {
			errs = append(errs, err.Error())
		}
		for _, pa := range paths {
			if !seen[pa] {
				seen[pa] = true
				svc.Paths = append(svc.Paths, pa)
			}
		}
		p.Services = append(p.Services, svc)
	}
	if len(p.Services) > 1 {
		var names []string
		for _, s := range p.Services {
			names = append(names, s.Name)
		}
		p.Notes = append(p.Notes, fmt.Sprintf("%s=true is on %d services (%s); the specification wants one, all of them are backed up",
			LabelBackup, len(names), strings.Join(names, ", ")))
	}
	if len(errs) > 0 {
		return p, fmt.Errorf("backupbot labels of stack %s: %s", stack, strings.Join(errs, "; "))
	}
	return p, nil
}

// enabled reports whether labels carry backupbot.backup=true.
func enabled(labels map[string]string) bool {
	return strings.EqualFold(strings.TrimSpace(labels[LabelBackup]), "true")
}

// volumeMount is one volume of the stack that a service mounts.
type volumeMount struct {
	key, volume, target string
}

// stackVolumes are the stack's own named volumes the service mounts: external volumes and
// binds are not the stack's to back up.
func stackVolumes(stack string, spec swarm.ServiceSpec) []volumeMount {
	var out []volumeMount
	if spec.TaskTemplate.ContainerSpec == nil {
		return nil
	}
	for _, m := range spec.TaskTemplate.ContainerSpec.Mounts {
		key, ok := strings.CutPrefix(m.Source, stack+"_")
		if m.Type != mount.TypeVolume || !ok || key == "" {
			continue
		}
		out = append(out, volumeMount{key: key, volume: m.Source, target: path.Clean(m.Target)})
	}
	return out
}

func servicePaths(stack, name string, spec swarm.ServiceSpec) ([]Path, error) {
	vols := stackVolumes(stack, spec)
	if old, ok := spec.Labels[LabelPath]; ok {
		return oldFormPaths(name, old, vols)
	}
	var out []Path
	var errs []string
	for _, v := range vols {
		if strings.EqualFold(strings.TrimSpace(spec.Labels[LabelVolumesPrefix+v.key]), "false") {
			continue
		}
		limit, ok := spec.Labels[LabelVolumesPrefix+v.key+".path"]
		if !ok {
			out = append(out, Path{Volume: v.volume, Target: v.target})
			continue
		}
		for _, entry := range splitPaths(limit) {
			rel, err := relPath(entry, v.target)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %s%s.path: %v", name, LabelVolumesPrefix, v.key, err))
				continue
			}
			out = append(out, Path{Volume: v.volume, Target: v.target, Rel: rel})
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// oldFormPaths maps backupbot.backup.path entries, absolute container paths, onto the
// volumes the service mounts at or above them (the deepest mount wins).
func oldFormPaths(name, value string, vols []volumeMount) ([]Path, error) {
	var out []Path
	var errs []string
	for _, entry := range splitPaths(value) {
		clean := path.Clean(entry)
		if !path.IsAbs(clean) || clean != path.Clean("/"+entry) {
			errs = append(errs, fmt.Sprintf("%s: %s: %q is not an absolute path", name, LabelPath, entry))
			continue
		}
		var best *volumeMount
		for i, v := range vols {
			if (clean == v.target || strings.HasPrefix(clean, v.target+"/")) && (best == nil || len(v.target) > len(best.target)) {
				best = &vols[i]
			}
		}
		if best == nil {
			errs = append(errs, fmt.Sprintf("%s: %s: %s is on no volume of the stack that the service mounts", name, LabelPath, clean))
			continue
		}
		out = append(out, Path{Volume: best.volume, Target: best.target, Rel: strings.TrimPrefix(strings.TrimPrefix(clean, best.target), "/")})
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// splitPaths splits a comma-separated label value, dropping empty entries.
func splitPaths(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// relPath is a .path entry relative to its volume's root. The specification says entries are
// relative; recipes also write them absolute (meilisearch's), which is taken as a path in the
// container when it lies under the mount, and as relative to the volume's root otherwise.
// An entry that leaves the volume is an error.
func relPath(entry, target string) (string, error) {
	if path.IsAbs(entry) {
		clean := path.Clean(entry)
		if clean == target {
			return "", nil
		}
		if rest, ok := strings.CutPrefix(clean, target+"/"); ok {
			return rest, nil
		}
		entry = strings.TrimLeft(entry, "/")
	}
	for _, part := range strings.Split(entry, "/") {
		if part == ".." {
			return "", fmt.Errorf("%q leaves the volume", entry)
		}
	}
	rel := path.Clean(entry)
	if rel == "." {
		return "", nil
	}
	return rel, nil
}
