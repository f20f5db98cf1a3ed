package backup

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"

	"github.com/swarmrun/swarmrun/deploy"
	"github.com/swarmrun/swarmrun/deploy/internal/taskexec"
)

// DefaultMaxArchive bounds the files of one backup (tar bytes, before compression): the
// files come from a head's containers, and the archive goes to the data dir's disk.
const DefaultMaxArchive = 256 << 20

// MarkerName is the file a backup writes into each backed-up directory to prove, after the
// restore, that the directory came back from the archive.
const MarkerName = ".swarmrun-backup-marker"

// markerLimit bounds a marker read back from a container.
const markerLimit = 4096

// Options configure a Runner. Engine is required.
type Options struct {
	Engine deploy.Engine
	// MaxArchive bounds one backup's files; default DefaultMaxArchive.
	MaxArchive int64
	// Now is the clock of the steps' durations; default time.Now.
	Now func() time.Time
}

// Runner backs up and restores the volumes of live stacks as their backupbot labels ask, and
// copies volume data between stacks. It keeps no state between calls.
type Runner struct {
	engine     deploy.Engine
	maxArchive int64
	now        func() time.Time
}

// NewRunner returns a Runner with the defaults of o filled in.
func NewRunner(o Options) *Runner {
	r := &Runner{engine: o.Engine, maxArchive: o.MaxArchive, now: o.Now}
	if r.maxArchive <= 0 {
		r.maxArchive = DefaultMaxArchive
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// Step is one thing a backup or restore did, as the reconciler reports it (one check each).
type Step struct {
	Name     string
	Failed   bool
	Message  string
	Output   string
	Duration time.Duration
}

// Result is what a backup or a restore did, step by step: it stops at the first failed step,
// except that post-hooks run whenever the files were copied (or put back), so that a hook
// pair that pauses an app always resumes it.
type Result struct {
	Steps []Step
	// Archive is the archive a backup wrote; nil when it wrote none.
	Archive *Artifact
}

// Failed reports whether a step failed.
func (r *Result) Failed() bool {
	for _, s := range r.Steps {
		if s.Failed {
			return true
		}
	}
	return false
}

// BackupRequest is one backup of a live stack.
type BackupRequest struct {
	Plan Plan
	// Archive is the .tar.gz file the backup writes; its directory is made if missing.
	Archive string
	// Nonce makes this backup's markers its own (the run's UID): a marker from another
	// backup never proves this one's restore.
	Nonce string
}

// RestoreRequest is one restore of a backup into the live stack it was taken from.
type RestoreRequest struct {
	Plan    Plan
	Archive string
	// SHA256 is the digest the backup recorded: an archive that changed since is refused.
	SHA256 string
	Nonce  string
}

// MarkerBefore is the marker a backup writes before it copies the files; MarkerAfter what it
// changes the marker to once the archive holds it. A restore that puts the archive back turns
// MarkerAfter into MarkerBefore again.
func MarkerBefore(nonce string) string { return "swarmrun " + nonce + ": written before the backup\n" }

// MarkerAfter: see MarkerBefore.
func MarkerAfter(nonce string) string { return "swarmrun " + nonce + ": changed after the backup\n" }

// session is one backup's or restore's steps and the containers it found.
type session struct {
	r    *Runner
	res  *Result
	ctrs map[string]string
}

func (r *Runner) session() *session {
	return &session{r: r, res: &Result{}, ctrs: map[string]string{}}
}

// step runs fn as the step name and records it; it reports whether the step passed.
func (s *session) step(name string, fn func() (msg, out string, err error)) bool {
	start := s.r.now()
	msg, out, err := fn()
	st := Step{Name: name, Message: msg, Output: out, Duration: s.r.now().Sub(start)}
	if err != nil {
		st.Failed, st.Message = true, err.Error()
	}
	s.res.Steps = append(s.res.Steps, st)
	return err == nil
}

// container is a running container of the service, found once per session.
func (s *session) container(ctx context.Context, svc string) (string, error) {
	if id, ok := s.ctrs[svc]; ok {
		return id, nil
	}
	id, err := taskexec.Running(ctx, s.r.engine, svc)
	if err != nil {
		return "", err
	}
	s.ctrs[svc] = id
	return id, nil
}

// hooks runs one kind of hook (pick) of every service that has one, in service order
// (backupbot guarantees no order); it reports whether all passed.
func (s *session) hooks(ctx context.Context, plan Plan, kind string, pick func(Hooks) string) bool {
	for _, svc := range plan.Services {
		hook := pick(svc.Hooks)
		if strings.TrimSpace(hook) == "" {
			continue
		}
		ok := s.step(fmt.Sprintf("%s %s", kind, short(plan.Stack, svc.Name)), func() (string, string, error) {
			id, err := s.container(ctx, svc.Name)
			if err != nil {
				return "", "", err
			}
			cmd, shell, err := s.r.hookCommand(ctx, id, hook)
			if err != nil {
				return "", "", fmt.Errorf("%s of %s: %w", kind, svc.Name, err)
			}
			out, code, err := taskexec.Run(ctx, s.r.engine, id, svc.Name, cmd)
			if err != nil {
				return "", out, err
			}
			if code != 0 {
				return "", out, fmt.Errorf("%s %q exited with code %d (%s)", kind, hook, code, shell)
			}
			return fmt.Sprintf("%q exited 0 (%s)", hook, shell), out, nil
		})
		if !ok {
			return false
		}
	}
	return true
}

// Backup runs the backup of req.Plan against the live stack, as backupbot would, with the
// markers that let the restore prove itself: a marker file in each backed-up directory, the
// backup pre-hooks, each path copied out of its service's container into the archive (through
// the engine's archive API, so the image needs no tar or shell), the post-hooks, a check that
// the archive holds the markers, and then the markers changed. A path that is a file, or does
// not exist before the pre-hooks (a dump the pre-hook writes), gets no marker.
func (r *Runner) Backup(ctx context.Context, req BackupRequest) *Result {
	s := r.session()
	plan := req.Plan
	var marked []Path
	for _, svc := range plan.Services {
		for _, p := range svc.Paths {
			ok := s.step("backup: marker in "+p.String(), func() (string, string, error) {
				id, err := s.container(ctx, svc.Name)
				if err != nil {
					return "", "", err
				}
				st, err := r.engine.ContainerStatPath(ctx, id, p.InContainer())
				switch {
				case cerrdefs.IsNotFound(err):
					return fmt.Sprintf("no marker: %s does not exist before the pre-hooks", p.InContainer()), "", nil
				case err != nil:
					return "", "", fmt.Errorf("stat %s in %s: %w", p.InContainer(), svc.Name, err)
				case !st.Mode.IsDir():
					return fmt.Sprintf("no marker: %s is a file", p.InContainer()), "", nil
				}
				if err := r.engine.CopyToContainer(ctx, id, p.InContainer(), oneFile(MarkerName, MarkerBefore(req.Nonce)), container.CopyToContainerOptions{}); err != nil {
					return "", "", fmt.Errorf("write the marker into %s of %s: %w", p.InContainer(), svc.Name, err)
				}
				marked = append(marked, p)
				return "written to " + path.Join(p.InContainer(), MarkerName), "", nil
			})
			if !ok {
				return s.res
			}
		}
	}
	if !s.hooks(ctx, plan, "backup: pre-hook", func(h Hooks) string { return h.BackupPre }) {
		return s.res
	}
	copied := s.step("backup: archive", func() (string, string, error) {
		if len(plan.Paths()) == 0 {
			return "", "", fmt.Errorf("%s=true, but no service of stack %s mounts a volume of the stack to back up", LabelBackup, plan.Stack)
		}
		w, err := newArchiveWriter(req.Archive, r.maxArchive)
		if err != nil {
			return "", "", err
		}
		n := 0
		for _, svc := range plan.Services {
			for _, p := range svc.Paths {
				got, err := r.copyOut(ctx, s, svc.Name, p, w)
				if err != nil {
					w.abort()
					return "", "", err
				}
				n += got
			}
		}
		art, err := w.finish()
		if err != nil {
			return "", "", err
		}
		s.res.Archive = &art
		return fmt.Sprintf("%d paths, %d entries, %d bytes, sha256 %s", len(plan.Paths()), n, art.Size, art.SHA256), "", nil
	})
	if !s.hooks(ctx, plan, "backup: post-hook", func(h Hooks) string { return h.BackupPost }) || !copied {
		return s.res
	}
	if !s.step("backup: markers in the archive", func() (string, string, error) {
		if len(marked) == 0 {
			return "no marker was written: every path is a file or did not exist before the pre-hooks", "", nil
		}
		for _, p := range marked {
			got, ok, err := fileInArchive(s.res.Archive.Path, path.Join(p.InArchive(), MarkerName), markerLimit)
			if err != nil {
				return "", "", fmt.Errorf("read the archive: %w", err)
			}
			if !ok || got != MarkerBefore(req.Nonce) {
				return "", "", fmt.Errorf("the archive does not hold the marker of %s", p)
			}
		}
		return fmt.Sprintf("%d markers", len(marked)), "", nil
	}) {
		return s.res
	}
	s.step("backup: markers changed", func() (string, string, error) {
		for _, p := range marked {
			id := s.ctrs[serviceOf(plan, p)]
			if err := r.engine.CopyToContainer(ctx, id, p.InContainer(), oneFile(MarkerName, MarkerAfter(req.Nonce)), container.CopyToContainerOptions{}); err != nil {
				return "", "", fmt.Errorf("change the marker in %s: %w", p, err)
			}
		}
		return fmt.Sprintf("%d markers now differ from the archive's", len(marked)), "", nil
	})
	return s.res
}

// copyOut copies one path out of the service's container into the archive.
func (r *Runner) copyOut(ctx context.Context, s *session, svc string, p Path, w *archiveWriter) (int, error) {
	id, err := s.container(ctx, svc)
	if err != nil {
		return 0, err
	}
	rc, st, err := r.engine.CopyFromContainer(ctx, id, p.InContainer())
	if cerrdefs.IsNotFound(err) {
		return 0, fmt.Errorf("%s (%s in %s) does not exist after the pre-hooks", p, p.InContainer(), svc)
	}
	if err != nil {
		return 0, fmt.Errorf("copy %s out of %s: %w", p.InContainer(), svc, err)
	}
	defer rc.Close()
	base := st.Name
	if base == "" {
		base = path.Base(p.InContainer())
	}
	n, err := w.add(rc, base, p.InArchive())
	if err != nil {
		return n, fmt.Errorf("copy %s out of %s: %w", p.InContainer(), svc, err)
	}
	return n, nil
}

// serviceOf is the service whose container gives path p.
func serviceOf(plan Plan, p Path) string {
	for _, svc := range plan.Services {
		for _, q := range svc.Paths {
			if q == p {
				return svc.Name
			}
		}
	}
	return ""
}

// Restore puts a backup back into the live stack, as backupbot would, and proves it: the
// archive's digest is the recorded one, the restore pre-hooks run, each path of the plan is
// put back into its service's container (over what is there, with the app running, as
// backup-bot-two's restic restore does; files added since are left), the post-hooks run, and
// every marker the archive holds reads as it did before the backup.
func (r *Runner) Restore(ctx context.Context, req RestoreRequest) *Result {
	s := r.session()
	plan := req.Plan
	if !s.step("restore: archive", func() (string, string, error) {
		sum, size, err := digest(req.Archive)
		if err != nil {
			return "", "", fmt.Errorf("read the backup: %w", err)
		}
		if sum != req.SHA256 {
			return "", "", fmt.Errorf("%s has sha256 %s, the backup recorded %s", path.Base(req.Archive), sum, req.SHA256)
		}
		return fmt.Sprintf("%d bytes, sha256 %s as recorded", size, sum), "", nil
	}) {
		return s.res
	}
	if !s.hooks(ctx, plan, "restore: pre-hook", func(h Hooks) string { return h.RestorePre }) {
		return s.res
	}
	put := s.step("restore: put back", func() (string, string, error) {
		total := 0
		for _, svc := range plan.Services {
			for _, p := range svc.Paths {
				n, err := r.putBack(ctx, s, svc.Name, p, req.Archive)
				if err != nil {
					return "", "", err
				}
				total += n
			}
		}
		return fmt.Sprintf("%d paths, %d entries", len(plan.Paths()), total), "", nil
	})
	if !s.hooks(ctx, plan, "restore: post-hook", func(h Hooks) string { return h.RestorePost }) || !put {
		return s.res
	}
	s.step("restore: markers back", func() (string, string, error) {
		n := 0
		for _, svc := range plan.Services {
			for _, p := range svc.Paths {
				name := path.Join(p.InArchive(), MarkerName)
				want, ok, err := fileInArchive(req.Archive, name, markerLimit)
				if err != nil {
					return "", "", fmt.Errorf("read the backup: %w", err)
				}
				if !ok {
					continue
				}
				id, err := s.container(ctx, svc.Name)
				if err != nil {
					return "", "", err
				}
				got, err := r.readFile(ctx, id, path.Join(p.InContainer(), MarkerName))
				if err != nil {
					return "", "", fmt.Errorf("read the marker of %s: %w", p, err)
				}
				if got != want {
					return "", "", fmt.Errorf("the marker of %s reads %q, the backup holds %q: the files did not come back", p, strings.TrimSpace(got), strings.TrimSpace(want))
				}
				n++
			}
		}
		if n == 0 {
			return "no marker to compare: the backup holds none (every path was a file or appeared in a pre-hook)", "", nil
		}
		return fmt.Sprintf("%d markers read as before the backup", n), "", nil
	})
	return s.res
}

// putBack extracts the archive's part for path p into the service's container: into the
// directory itself when it is one in the container (so that nothing above it is touched, a
// read-only root file system included), else into its parent under its own name.
func (r *Runner) putBack(ctx context.Context, s *session, svc string, p Path, archive string) (int, error) {
	id, err := s.container(ctx, svc)
	if err != nil {
		return 0, err
	}
	dst, to, keep := path.Dir(p.InContainer()), path.Base(p.InContainer()), func(string) bool { return true }
	if st, err := r.engine.ContainerStatPath(ctx, id, p.InContainer()); err == nil && st.Mode.IsDir() {
		dst, to, keep = p.InContainer(), ".", func(name string) bool { return name != "." }
	} else if err != nil && !cerrdefs.IsNotFound(err) {
		return 0, fmt.Errorf("stat %s in %s: %w", p.InContainer(), svc, err)
	}
	pr, pw := io.Pipe()
	counted := make(chan int, 1)
	go func() {
		n, err := entries(archive, p.InArchive(), to, r.maxArchive, keep, pw)
		counted <- n
		pw.CloseWithError(err)
	}()
	err = r.engine.CopyToContainer(ctx, id, dst, pr, container.CopyToContainerOptions{})
	pr.CloseWithError(io.ErrClosedPipe)
	n := <-counted
	if err != nil {
		return n, fmt.Errorf("put %s back into %s: %w", p, svc, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("the backup holds nothing of %s", p)
	}
	return n, nil
}

// readFile reads a small file of a container through the archive API.
func (r *Runner) readFile(ctx context.Context, id, p string) (string, error) {
	rc, _, err := r.engine.CopyFromContainer(ctx, id, p)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	return readOne(rc, markerLimit)
}

// short is a service's name without its stack.
func short(stack, name string) string { return strings.TrimPrefix(name, stack+"_") }
