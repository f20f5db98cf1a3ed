package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// Probe images built by `make images` (scripts/build-images.sh).
const (
	ProbeV1 = "swarmrun-probe:1"
	ProbeV2 = "swarmrun-probe:2"
)

// Repo is a git repository made with the git CLI for one test.
type Repo struct {
	t   testing.TB
	Dir string
}

// NewRepo makes a repository whose first branch is branch.
func NewRepo(t testing.TB, branch string) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: t.TempDir()}
	r.Git("init", "-q", "-b", branch)
	return r
}

// Git runs git in the repository and returns its trimmed output.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Write writes files (path → content) into the work tree.
func (r *Repo) Write(files map[string]string) {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.Dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

// Commit writes files, commits everything and returns the new commit id.
func (r *Repo) Commit(msg string, files map[string]string) string {
	r.t.Helper()
	r.Write(files)
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "-m", msg)
	return r.Git("rev-parse", "HEAD")
}

// CommitTree makes the work tree exactly the files under dir (a fixture directory such as
// testdata/recipes/shapes/1.0.0: files of the previous commit that dir lacks are deleted),
// commits it and returns the new commit id.
func (r *Repo) CommitTree(msg, dir string) string {
	r.t.Helper()
	if out := r.Git("ls-files"); out != "" {
		r.Git("rm", "-rq", "--cached", ".")
		for _, f := range strings.Split(out, "\n") {
			if err := os.Remove(filepath.Join(r.Dir, f)); err != nil {
				r.t.Fatal(err)
			}
		}
	}
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files[rel] = string(b)
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return r.Commit(msg, files)
}

// Shapes builds the shapes recipe of testdata/recipes/shapes (root is the path of
// testdata/recipes/shapes from the test's package): release 1.0.0+1.0 (app, db and a worker
// from an overlay COMPOSE_FILE adds line by line) and release 2.0.0+2.0 (the worker
// dropped, compose.yml without a version key), both annotated tags, on branch main. It
// returns the repository and the two commits.
func Shapes(t testing.TB, root string) (*Repo, []string) {
	t.Helper()
	r := NewRepo(t, "main")
	var commits []string
	for _, v := range []struct{ dir, tag string }{{"1.0.0", "1.0.0+1.0"}, {"2.0.0", "2.0.0+2.0"}} {
		commits = append(commits, r.CommitTree("release "+v.tag, filepath.Join(root, v.dir)))
		r.Git("tag", "-a", "-m", "release "+v.tag, v.tag)
	}
	return r, commits
}

// ShapesOnProbe are the image overrides that run the shapes recipe on the probe images:
// each of its images (example.org/shapes/app:1 ...) takes the name swarmrun-probe and keeps
// its tag, so release 1.0.0 runs swarmrun-probe:1 and 2.0.0's app swarmrun-probe:2.
func ShapesOnProbe() []v1alpha1.ImageOverride {
	return []v1alpha1.ImageOverride{
		{Name: "example.org/shapes/app", NewName: "swarmrun-probe"},
		{Name: "example.org/shapes/db", NewName: "swarmrun-probe"},
		{Name: "example.org/shapes/worker", NewName: "swarmrun-probe"},
	}
}

// Bare clones the repository into a bare "remote" and returns its file:// URL and path.
func (r *Repo) Bare() (string, string) {
	r.t.Helper()
	p := filepath.Join(r.t.TempDir(), "remote.git")
	r.Git("clone", "-q", "--bare", r.Dir, p)
	return "file://" + p, p
}

// Version is one commit of the test recipe.
type Version struct {
	Image string
	// Version is the compose file's own version label.
	Version string
	// Sidekiq adds a second service, the one the field report's head dropped.
	Sidekiq bool
	// Tag, when set, tags the commit as a release.
	Tag string
	// Labels are more deploy labels of the app service ("key=value"), e.g. BackupLabels.
	Labels []string
	// Files are more files of the commit, path → content (e.g. tests/swarmrun.yaml). They
	// stay in the later commits unless a later version writes them again.
	Files map[string]string
}

// BackupLabels make the app service's /data volume backed up as backupbot would, with hooks
// the probe can run without a shell: the pre-hook writes a dump into the volume through the
// probe's own HTTP API, the post-hook overwrites it, and the restore post-hook fails unless
// the restore brought the dump of the backup back.
func BackupLabels() []string {
	return []string{
		"backupbot.backup=true",
		"backupbot.backup.pre-hook=/probe -check http://127.0.0.1:8080/data/dump -put dumped-by-the-pre-hook -expect-status 204 -retries 1",
		"backupbot.backup.post-hook=/probe -check http://127.0.0.1:8080/data/dump -put cleaned-by-the-post-hook -expect-status 204 -retries 1",
		"backupbot.restore.post-hook=/probe -check http://127.0.0.1:8080/data/dump -contains dumped-by-the-pre-hook -retries 1",
	}
}

// Compose is the test recipe's compose file at one version: app on an image with a
// healthcheck, a volume and an external secret, and optionally sidekiq.
func Compose(v Version) string {
	side := ""
	if v.Sidekiq {
		side = fmt.Sprintf(sidekiq, v.Image)
	}
	var labels strings.Builder
	for _, l := range v.Labels {
		fmt.Fprintf(&labels, "        - %q\n", l)
	}
	return fmt.Sprintf(compose, v.Image, v.Version, labels.String(), side)
}

// EnvSample is the test recipe's .env.sample.
const EnvSample = "COMPOSE_FILE=compose.yml\nSECRET_DB_PASSWORD_VERSION=v1 # length=24\n"

const compose = `version: "3.8"
services:
  app:
    image: %s
    healthcheck:
      test: ["CMD", "/probe", "-health"]
      interval: 1s
      timeout: 2s
      retries: 3
    volumes:
      - data:/data
    secrets:
      - db_password
    stop_grace_period: 1s
    deploy:
      update_config: {order: start-first, monitor: 1s}
      labels:
        - "coop-cloud.${STACK_NAME}.version=%s"
%s%s
volumes:
  data:
secrets:
  db_password:
    external: true
    name: ${STACK_NAME}_db_password_${SECRET_DB_PASSWORD_VERSION}
`

const sidekiq = `  sidekiq:
    image: %s
    command: ["-sleep", "0"]
    stop_grace_period: 1s
    deploy:
      update_config: {order: start-first, monitor: 1s}
`

// Recipe builds the test recipe: one commit per version, in order, on branch (main or
// master), and returns the repository and the commits.
func Recipe(t testing.TB, branch string, versions ...Version) (*Repo, []string) {
	t.Helper()
	r := NewRepo(t, branch)
	var commits []string
	for _, v := range versions {
		files := map[string]string{"compose.yml": Compose(v), ".env.sample": EnvSample}
		for name, content := range v.Files {
			files[name] = content
		}
		commits = append(commits, r.Commit("version "+v.Version, files))
		if v.Tag != "" {
			// Annotated, as abra tags releases (lint R014 wants them so).
			r.Git("tag", "-a", "-m", "release "+v.Tag, v.Tag)
		}
	}
	return r, commits
}

// Standard is the acceptance recipe: release 0.1.0+1 (probe 1, with sidekiq) and 0.2.0+2
// (probe 2, sidekiq dropped) on branch. It returns the repository's path and the commits.
func Standard(t testing.TB, branch string) (string, []string) {
	t.Helper()
	r, commits := Recipe(t, branch,
		Version{Image: ProbeV1, Version: "0.1.0+1", Sidekiq: true, Tag: "0.1.0+1"},
		Version{Image: ProbeV2, Version: "0.2.0+2", Tag: "0.2.0+2"},
	)
	return r.Dir, commits
}
