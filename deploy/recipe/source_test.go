package recipe

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recipeHistory makes a recipe repository on branch with three releases (one annotated, one
// a pre-release), a non-release tag, and one unreleased commit at the tip.
func recipeHistory(t *testing.T, branch string) (r *testRepo, commits map[string]string) {
	t.Helper()
	r = newTestRepo(t, branch)
	commits = map[string]string{}
	commits["0.7.0"] = r.commit("0.7.0", map[string]string{"compose.yml": "version: '3.8'\n# 0.7.0\n"})
	r.git("tag", "0.7.0+3.3.1")
	r.git("tag", "latest")
	commits["0.8.0-rc.1"] = r.commit("0.8.0-rc.1", map[string]string{"compose.yml": "version: '3.8'\n# rc\n"})
	r.git("tag", "0.8.0-rc.1+3.4.0")
	commits["0.8.0"] = r.commit("0.8.0", map[string]string{"compose.yml": "version: '3.8'\n# 0.8.0\n"})
	r.git("tag", "-a", "-m", "release", "0.8.0+3.4.0")
	r.git("tag", "stable-9.9.9")
	commits["tip"] = r.commit("unreleased", map[string]string{"compose.yml": "version: '3.8'\n# tip\n"})
	return r, commits
}

func openLocal(t *testing.T, dir string) *Source {
	t.Helper()
	s, err := NewCache(Options{Dir: t.TempDir()}).Open(t.Context(), dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	if !s.Local() {
		t.Fatalf("Open(%s) is not local", dir)
	}
	return s
}

func TestResolve(t *testing.T) {
	r, c := recipeHistory(t, "main")
	r.git("branch", "feature", c["0.7.0"])
	s := openLocal(t, r.dir)
	tests := []struct {
		ref     string
		want    Commit
		wantErr error
	}{
		{ref: c["0.8.0"], want: Commit{Ref: c["0.8.0"], Hash: c["0.8.0"], Version: "0.8.0+3.4.0"}},
		{ref: c["tip"][:8], want: Commit{Ref: c["tip"][:8], Hash: c["tip"]}},
		{ref: "0.7.0+3.3.1", want: Commit{Ref: "0.7.0+3.3.1", Hash: c["0.7.0"], Version: "0.7.0+3.3.1"}},
		{ref: "0.8.0+3.4.0", want: Commit{Ref: "0.8.0+3.4.0", Hash: c["0.8.0"], Version: "0.8.0+3.4.0"}},
		{ref: "latest", want: Commit{Ref: "latest", Hash: c["0.7.0"], Version: "0.7.0+3.3.1"}},
		{ref: "main", want: Commit{Ref: "main", Hash: c["tip"]}},
		{ref: "feature", want: Commit{Ref: "feature", Hash: c["0.7.0"], Version: "0.7.0+3.3.1"}},
		{ref: "HEAD", want: Commit{Ref: "HEAD", Hash: c["tip"]}},
		{ref: "nope", wantErr: ErrRefNotFound},
		{ref: "", wantErr: ErrRefNotFound},
		{ref: strings.Repeat("0", 40), wantErr: ErrRefNotFound},
		{ref: "000000000000", wantErr: ErrRefNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := s.Resolve(t.Context(), tt.ref)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve(%q) = %+v, %v; want %v", tt.ref, got, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), `"`+tt.ref+`"`) {
					t.Errorf("error %q does not name the ref", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.ref, err)
			}
			if got != tt.want {
				t.Errorf("Resolve(%q) = %+v, want %+v", tt.ref, got, tt.want)
			}
		})
	}
}

// TestVersionsOfRealTagShapes: the tag shapes of real recipe repositories are releases:
// bonfire's annotated X.Y.Z+upstream tags with a dashed upstream part, foodsharing-cms's
// annotated v-prefixed semver, the traefik fork's lightweight v-prefixed one.
func TestVersionsOfRealTagShapes(t *testing.T) {
	r := newTestRepo(t, "master")
	c1 := r.commit("one", map[string]string{"compose.yml": "version: '3.8'\n# 1\n"})
	r.git("tag", "-a", "-m", "release", "1.0.0+1.0.5-social-amd64")
	r.git("tag", "v2.4.8")
	c2 := r.commit("two", map[string]string{"compose.yml": "version: '3.8'\n# 2\n"})
	r.git("tag", "-a", "-m", "v1.0.3", "v1.0.3")
	r.git("tag", "-a", "-m", "release", "2.0.1+1.0.6-social-amd64")
	s := openLocal(t, r.dir)
	got, err := s.Versions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []Version{
		{Tag: "1.0.0+1.0.5-social-amd64", Commit: c1},
		{Tag: "v1.0.3", Commit: c2},
		{Tag: "2.0.1+1.0.6-social-amd64", Commit: c2},
		{Tag: "v2.4.8", Commit: c1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Versions() =\n  %v\nwant\n  %v", got, want)
	}
	head, err := s.Resolve(t.Context(), "v2.4.8")
	if err != nil || head.Hash != c1 || head.Version != "v2.4.8" {
		t.Errorf("Resolve(v2.4.8) = %+v, %v; want the lightweight tag's commit as version v2.4.8", head, err)
	}
	tags, err := s.Tags(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	annotated := map[string]bool{}
	for _, tg := range tags {
		annotated[tg.Name] = tg.Annotated
	}
	if !annotated["v1.0.3"] || annotated["v2.4.8"] || !annotated["1.0.0+1.0.5-social-amd64"] || len(tags) != 4 {
		t.Errorf("Tags() = %+v, want 4 with v2.4.8 the only lightweight one", tags)
	}
}

func TestVersions(t *testing.T) {
	r, c := recipeHistory(t, "main")
	r.git("tag", "0.10.0+4.0.0", c["tip"])
	// A release-looking tag of a tree names no release.
	r.git("tag", "0.11.0+5.0.0", c["tip"]+"^{tree}")
	r.git("tag", "-a", "-m", "tree", "0.12.0+5.0.0", c["tip"]+"^{tree}")
	s := openLocal(t, r.dir)
	got, err := s.Versions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []Version{
		{Tag: "0.7.0+3.3.1", Commit: c["0.7.0"]},
		{Tag: "0.8.0-rc.1+3.4.0", Commit: c["0.8.0-rc.1"]},
		{Tag: "0.8.0+3.4.0", Commit: c["0.8.0"]},
		{Tag: "0.10.0+4.0.0", Commit: c["tip"]},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Versions() =\n  %v\nwant\n  %v", got, want)
	}
	v, err := s.VersionOf(t.Context(), c["0.8.0"])
	if err != nil || v != "0.8.0+3.4.0" {
		t.Errorf("VersionOf(0.8.0 commit) = %q, %v", v, err)
	}
	v, err = s.VersionOf(t.Context(), strings.Repeat("1", 40))
	if err != nil || v != "" {
		t.Errorf("VersionOf(unknown) = %q, %v; want empty", v, err)
	}
}

func TestTargetBranch(t *testing.T) {
	tests := []struct {
		name       string
		branches   []string // first is the initial branch
		preferred  string
		wantBranch string
		wantErr    error
	}{
		{name: "main", branches: []string{"main", "master"}, wantBranch: "main"},
		{name: "master fallback", branches: []string{"master"}, wantBranch: "master"},
		{name: "preferred", branches: []string{"main", "develop"}, preferred: "develop", wantBranch: "develop"},
		{name: "preferred missing does not fall back", branches: []string{"main"}, preferred: "develop", wantErr: ErrNoTargetBranch},
		{name: "neither", branches: []string{"trunk"}, wantErr: ErrNoTargetBranch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRepo(t, tt.branches[0])
			tip := r.commit("one", map[string]string{"compose.yml": "x"})
			for _, b := range tt.branches[1:] {
				r.git("branch", b)
			}
			branch, commit, err := openLocal(t, r.dir).TargetBranch(t.Context(), tt.preferred)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("TargetBranch() = %s, %s, %v; want %v", branch, commit, err, tt.wantErr)
				}
				return
			}
			if err != nil || branch != tt.wantBranch || commit != tip {
				t.Errorf("TargetBranch() = %s, %s, %v; want %s, %s", branch, commit, err, tt.wantBranch, tip)
			}
		})
	}
}

func TestMirror(t *testing.T) {
	r, c := recipeHistory(t, "master")
	url, remote := r.bare()
	dir := t.TempDir()
	cache := NewCache(Options{Dir: dir, Now: func() time.Time { return time.Unix(1700000000, 0) }})

	s, err := cache.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	if s.Local() {
		t.Fatal("a file:// URL opened as a local source")
	}
	if s.FetchedAt() != time.Unix(1700000000, 0) {
		t.Errorf("FetchedAt() = %v after the clone", s.FetchedAt())
	}
	mirrors, _ := filepath.Glob(filepath.Join(dir, "remote-*.git"))
	if len(mirrors) != 1 {
		t.Fatalf("mirrors under the cache dir: %v", mirrors)
	}

	// A clone killed half way leaves a temporary directory; a later clone clears it.
	leftover := mirrors[0] + ".tmp-12345"
	if err := os.MkdirAll(filepath.Join(leftover, "objects"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(mirrors[0]); err != nil {
		t.Fatal(err)
	}
	if s, err = cache.Open(t.Context(), url); err != nil {
		t.Fatalf("Open after the mirror was lost: %v", err)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover of a killed clone is still there: %v", err)
	}
	branch, tip, err := s.TargetBranch(t.Context(), "")
	if err != nil || branch != "master" || tip != c["tip"] {
		t.Fatalf("TargetBranch() = %s, %s, %v", branch, tip, err)
	}

	// The remote moves on: a new release, and a deleted tag.
	next := r.commit("0.9.0", map[string]string{"compose.yml": "# 0.9.0\n"})
	r.git("tag", "0.9.0+3.5.0")
	r.git("push", "-q", remote, "master", "0.9.0+3.5.0")
	r.git("push", "-q", remote, ":refs/tags/0.8.0-rc.1+3.4.0")

	// A second Open of the same URL reuses the mirror and does not fetch.
	s2, err := cache.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Resolve(t.Context(), "0.9.0+3.5.0"); !errors.Is(err, ErrRefNotFound) {
		t.Fatalf("Resolve(new tag) before Fetch: %v, want ErrRefNotFound", err)
	}
	if err := s2.Fetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := s2.Resolve(t.Context(), "0.9.0+3.5.0")
	if err != nil || got.Hash != next {
		t.Fatalf("Resolve(new tag) after Fetch = %+v, %v", got, err)
	}
	vs, err := s2.Versions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, v := range vs {
		tags = append(tags, v.Tag)
	}
	if want := []string{"0.7.0+3.3.1", "0.8.0+3.4.0", "0.9.0+3.5.0"}; !slices.Equal(tags, want) {
		t.Errorf("Versions() after Fetch = %v, want %v (deleted tag pruned)", tags, want)
	}
	// Fetching again with nothing new is not an error.
	if err := s2.Fetch(t.Context()); err != nil {
		t.Errorf("second Fetch: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	cache := NewCache(Options{Dir: t.TempDir()})
	if _, err := cache.Open(t.Context(), t.TempDir()); err == nil {
		t.Error("Open(a directory that is no repository) succeeded")
	}
	if _, err := cache.Open(t.Context(), ""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	// Credentials in a URL never show in an error. Port 1 refuses at once.
	_, err := cache.Open(t.Context(), "http://bob:s3cr3tTOKEN@127.0.0.1:1/recipes/app.git")
	if err == nil {
		t.Fatal("Open(unreachable URL) succeeded")
	}
	if strings.Contains(err.Error(), "s3cr3tTOKEN") || strings.Contains(err.Error(), "bob") {
		t.Errorf("error shows credentials: %v", err)
	}
	// The failed clone leaves nothing behind but the lock file.
	left, _ := filepath.Glob(filepath.Join(cache.dir, "*.git*"))
	if len(left) != 0 {
		t.Errorf("failed clone left %v", left)
	}
}

func TestIsLocalPath(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"/srv/recipes/discourse", true},
		{"./discourse", true},
		{"../discourse", true},
		{".", true},
		{"discourse", true},
		{"recipes/discourse", true},
		{"file:///srv/recipes/discourse.git", false},
		{"https://git.example.org/recipes/discourse.git", false},
		{"ssh://git@git.example.org:2222/recipes/discourse.git", false},
		{"git@git.example.org:recipes/discourse.git", false},
	}
	for _, tt := range tests {
		if got := isLocalPath(tt.in); got != tt.want {
			t.Errorf("isLocalPath(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://bob:pw@git.example.org/r.git", "https://xxxxx@git.example.org/r.git"},
		{"https://ghp_token@git.example.org/r.git", "https://xxxxx@git.example.org/r.git"},
		{"https://git.example.org/r.git", "https://git.example.org/r.git"},
		{"/srv/r", "/srv/r"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Two runs of one recipe, in two processes sharing the data dir (two Caches here), open,
// fetch and materialise different heads at once: each gets its own directory with its own
// head's files.
func TestConcurrentRuns(t *testing.T) {
	r, c := recipeHistory(t, "main")
	url, _ := r.bare()
	dir := t.TempDir()
	heads := []string{c["0.7.0"], c["tip"], c["0.8.0"], c["tip"]}
	want := map[string]string{
		c["0.7.0"]: "version: '3.8'\n# 0.7.0\n",
		c["0.8.0"]: "version: '3.8'\n# 0.8.0\n",
		c["tip"]:   "version: '3.8'\n# tip\n",
	}
	out := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, len(heads))
	for i, head := range heads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := NewCache(Options{Dir: dir}).Open(t.Context(), url)
			if err == nil {
				err = s.Fetch(t.Context())
			}
			if err == nil {
				var got Commit
				got, err = s.Resolve(t.Context(), head[:10])
				if err == nil && got.Hash != head {
					err = errors.New("resolved " + got.Hash + ", want " + head)
				}
			}
			if err == nil {
				err = s.Materialise(t.Context(), head, filepath.Join(out, "run"+string(rune('a'+i)), "head"))
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, head := range heads {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		got := readFile(t, filepath.Join(out, "run"+string(rune('a'+i)), "head", "compose.yml"))
		if got != want[head] {
			t.Errorf("run %d materialised %q, want %q", i, got, want[head])
		}
	}
	mirrors, _ := filepath.Glob(filepath.Join(dir, "*.git"))
	if len(mirrors) != 1 {
		t.Errorf("mirrors = %v, want exactly one", mirrors)
	}
}

func TestOpenLocalDoesNotModify(t *testing.T) {
	r, c := recipeHistory(t, "main")
	r.git("checkout", "-q", "-b", "pr", c["0.7.0"])
	before := r.git("for-each-ref")
	s := openLocal(t, r.dir)
	if err := s.Fetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Materialise(t.Context(), c["tip"], filepath.Join(t.TempDir(), "m")); err != nil {
		t.Fatal(err)
	}
	if after := r.git("for-each-ref"); after != before {
		t.Errorf("refs changed:\n%s\n---\n%s", before, after)
	}
	if head := r.git("rev-parse", "HEAD"); head != c["0.7.0"] {
		t.Errorf("HEAD moved to %s", head)
	}
	if st := r.git("status", "--porcelain"); st != "" {
		t.Errorf("work tree changed: %s", st)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "compose.yml")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(r.dir, "compose.yml")); got != "version: '3.8'\n# 0.7.0\n" {
		t.Errorf("work tree file changed: %q", got)
	}
}

func TestOpenLinkedWorktree(t *testing.T) {
	r, c := recipeHistory(t, "main")
	wt := filepath.Join(t.TempDir(), "wt")
	r.git("worktree", "add", "-q", "-b", "pr", wt, c["0.7.0"])
	s := openLocal(t, wt)
	head, err := s.Resolve(t.Context(), "HEAD")
	if err != nil || head.Hash != c["0.7.0"] || head.Version != "0.7.0+3.3.1" {
		t.Fatalf("Resolve(HEAD) in a worktree = %+v, %v", head, err)
	}
	branch, tip, err := s.TargetBranch(t.Context(), "")
	if err != nil || branch != "main" || tip != c["tip"] {
		t.Errorf("TargetBranch() in a worktree = %s, %s, %v", branch, tip, err)
	}
	if err := os.WriteFile(filepath.Join(wt, "compose.yml"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if dirty, err := s.Dirty(t.Context()); err != nil || !dirty {
		t.Errorf("Dirty() in a changed worktree = %v, %v", dirty, err)
	}
}
