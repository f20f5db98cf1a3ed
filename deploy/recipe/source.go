package recipe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/swarmrun/swarmrun/deploy/confine"
)

// Errors callers branch on.
var (
	// ErrRefNotFound: a ref names no commit, tag or branch of the source.
	ErrRefNotFound = errors.New("ref not found")
	// ErrAmbiguousRef: a short commit id matches several commits.
	ErrAmbiguousRef = errors.New("ambiguous ref")
	// ErrNoTargetBranch: none of the candidate target branches exists.
	ErrNoTargetBranch = errors.New("no target branch")
	// ErrCommitNotFound: a commit is not in the source (a mirror may need a Fetch).
	ErrCommitNotFound = errors.New("commit not found")
	// ErrUnsafe: the recipe tried to reach outside its checkout (an absolute or ".." path, a
	// symlink leading out), or holds a tree that cannot be written safely or is over a
	// limit. It is final: the same commit is refused again. It is confine.ErrUnsafe, which
	// deploy/render's refusals match too.
	ErrUnsafe = confine.ErrUnsafe
	// ErrTooLarge: a tree over Options.MaxBytes or Options.MaxFiles. It matches ErrUnsafe too.
	ErrTooLarge = confine.ErrTooLarge
)

// Options configure a Cache.
type Options struct {
	// Dir holds the mirrors of remote sources, typically <data-dir>/recipes. It is created
	// on first use.
	Dir string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MaxBytes caps the bytes of files one Materialise or MaterialiseWorkingTree writes
	// (default DefaultMaxBytes, 256 MiB), and MaxFiles its files, symlinks and directories
	// (default DefaultMaxFiles, 20,000). Both are checked from the tree's metadata before
	// anything is written; a tree over either is refused with ErrTooLarge.
	MaxBytes int64
	MaxFiles int
}

// Cache opens recipe sources: local paths in place, remote URLs through a bare mirror per
// URL under Dir. It is safe for concurrent use, also by several processes sharing Dir: each
// mirror is guarded by a lock file, exclusive while it is cloned or fetched and shared while
// it is read.
type Cache struct {
	dir      string
	now      func() time.Time
	maxBytes int64
	maxFiles int
}

// NewCache returns a Cache over opts.Dir, with the defaults filled in.
func NewCache(opts Options) *Cache {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = DefaultMaxFiles
	}
	return &Cache{dir: opts.Dir, now: opts.Now, maxBytes: opts.MaxBytes, maxFiles: opts.MaxFiles}
}

// Source is one opened recipe repository. Every read takes the mirror's shared lock and opens
// the repository afresh, so that it sees what the latest Fetch wrote.
type Source struct {
	url   string
	path  string // the repository: the local path, or the mirror's git directory
	local bool
	lock  string // the mirror's lock file; empty for a local source
	now   func() time.Time
	// maxBytes and maxFiles limit a materialised checkout.
	maxBytes int64
	maxFiles int

	mu        sync.Mutex
	fetchedAt time.Time
}

// Open opens the recipe source at rawURL. A local path (absolute, relative, or without a
// URL scheme) is opened in place and never modified. Anything else is a git URL: its mirror
// is cloned on first use; an existing mirror is not fetched here, so that a run calls Fetch
// exactly once and later phases read the commits it already resolved.
func (c *Cache) Open(ctx context.Context, rawURL string) (*Source, error) {
	rawURL = strings.TrimSpace(rawURL)
	if rawURL == "" {
		return nil, errors.New("open recipe source: empty url")
	}
	if isLocalPath(rawURL) {
		return c.openLocal(rawURL)
	}
	return c.openMirror(ctx, rawURL)
}

func (c *Cache) openLocal(p string) (*Source, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, fmt.Errorf("open recipe source %s: %w", p, err)
	}
	if _, err := openRepo(abs); err != nil {
		return nil, fmt.Errorf("open recipe source %s: %w", abs, err)
	}
	return &Source{url: p, path: abs, local: true, now: c.now, maxBytes: c.maxBytes, maxFiles: c.maxFiles}, nil
}

func (c *Cache) openMirror(ctx context.Context, rawURL string) (*Source, error) {
	shown := RedactURL(rawURL)
	if c.dir == "" {
		return nil, fmt.Errorf("open recipe source %s: no cache directory", shown)
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, fmt.Errorf("open recipe source %s: %w", shown, err)
	}
	name := mirrorName(rawURL)
	s := &Source{
		url:  rawURL,
		path: filepath.Join(c.dir, name+".git"),
		lock: filepath.Join(c.dir, name+".lock"),
		now:  c.now,

		maxBytes: c.maxBytes,
		maxFiles: c.maxFiles,
	}
	unlock, err := lockFile(ctx, s.lock, true)
	if err != nil {
		return nil, fmt.Errorf("open recipe source %s: %w", shown, err)
	}
	defer unlock()
	if _, err := openRepo(s.path); err == nil {
		return s, nil
	}
	if err := s.clone(ctx); err != nil {
		return nil, fmt.Errorf("open recipe source %s: %w", shown, err)
	}
	return s, nil
}

// clone makes the mirror in a temporary directory and renames it into place, so that an
// interrupted clone never leaves a half mirror behind. The caller holds the exclusive lock.
func (s *Source) clone(ctx context.Context) error {
	// Leftovers of a clone whose process was killed: nobody else clones under our lock.
	stale, _ := filepath.Glob(s.path + ".tmp-*")
	for _, p := range stale {
		_ = os.RemoveAll(p)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(s.path), filepath.Base(s.path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err := git.PlainCloneContext(ctx, tmp, true, &git.CloneOptions{URL: s.url, Mirror: true}); err != nil {
		return fmt.Errorf("clone: %w", redact(err, s.url))
	}
	_ = os.RemoveAll(s.path) // a mirror that failed to open
	if err := os.Rename(tmp, s.path); err != nil {
		return err
	}
	s.setFetched()
	return nil
}

// Fetch updates a mirror from its remote: all branches and tags, dropping those the remote
// deleted. It is a no-op for a local source.
func (s *Source) Fetch(ctx context.Context) error {
	if s.local {
		return nil
	}
	unlock, err := lockFile(ctx, s.lock, true)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", RedactURL(s.url), err)
	}
	defer unlock()
	repo, err := openRepo(s.path)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", RedactURL(s.url), err)
	}
	err = repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: git.DefaultRemoteName,
		RefSpecs:   []config.RefSpec{"+refs/*:refs/*"},
		Tags:       git.NoTags,
		Prune:      true,
		Force:      true,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("fetch %s: %w", RedactURL(s.url), redact(err, s.url))
	}
	s.setFetched()
	return nil
}

func (s *Source) setFetched() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetchedAt = s.now()
}

// FetchedAt is when this Source last cloned or fetched its mirror; zero when it has not.
func (s *Source) FetchedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetchedAt
}

// URL is the source as given to Open, with any credentials removed.
func (s *Source) URL() string { return RedactURL(s.url) }

// Local reports whether the source is a local path opened in place.
func (s *Source) Local() bool { return s.local }

// read runs fn on a freshly opened repository under the mirror's shared lock.
func (s *Source) read(ctx context.Context, fn func(*git.Repository) error) error {
	if !s.local {
		unlock, err := lockFile(ctx, s.lock, false)
		if err != nil {
			return err
		}
		defer unlock()
	}
	repo, err := openRepo(s.path)
	if err != nil {
		return err
	}
	return fn(repo)
}

// Commit is a ref resolved to a commit.
type Commit struct {
	// Ref is the ref as asked for.
	Ref string
	// Hash is the full commit id.
	Hash string
	// Version is the release tag at the commit (the asked tag when Ref is one, else the
	// newest), empty when the commit is not a release.
	Version string
}

// Short is the commit id's first 8 hex digits.
func (c Commit) Short() string { return shortHash(c.Hash) }

// Resolve resolves a ref to a commit: a full commit id, a tag, a branch (a local source's
// own branches first, then its origin's), HEAD, or an unambiguous short commit id.
func (s *Source) Resolve(ctx context.Context, ref string) (Commit, error) {
	var c Commit
	err := s.read(ctx, func(repo *git.Repository) error {
		var err error
		c, err = resolve(repo, ref)
		return err
	})
	if err != nil {
		return Commit{}, fmt.Errorf("resolve %q in %s: %w", ref, s.URL(), err)
	}
	return c, nil
}

func resolve(repo *git.Repository, ref string) (Commit, error) {
	if ref == "" {
		return Commit{}, ErrRefNotFound
	}
	c := Commit{Ref: ref}
	hash, err := lookupRef(repo, ref)
	if err != nil {
		return Commit{}, err
	}
	c.Hash = hash.String()
	if _, err := ParseVersion(ref); err == nil {
		if h, err := peeledRef(repo, plumbing.NewTagReferenceName(ref)); err == nil && h == hash {
			c.Version = ref
			return c, nil
		}
	}
	c.Version, err = versionAt(repo, c.Hash)
	return c, err
}

func lookupRef(repo *git.Repository, ref string) (plumbing.Hash, error) {
	if len(ref) == 40 && isLowerHex(ref) {
		h := plumbing.NewHash(ref)
		if _, err := repo.CommitObject(h); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%w: %w", ErrRefNotFound, err)
		}
		return h, nil
	}
	for _, name := range []plumbing.ReferenceName{
		plumbing.NewTagReferenceName(ref),
		plumbing.NewBranchReferenceName(ref),
		plumbing.NewRemoteReferenceName(git.DefaultRemoteName, ref),
	} {
		h, err := peeledRef(repo, name)
		if err == nil {
			return h, nil
		}
		if !errors.Is(err, plumbing.ErrReferenceNotFound) {
			return plumbing.ZeroHash, err
		}
	}
	if ref == "HEAD" {
		head, err := repo.Head()
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%w: %w", ErrRefNotFound, err)
		}
		return head.Hash(), nil
	}
	if len(ref) >= 4 && len(ref) < 40 && isLowerHex(ref) {
		return commitByPrefix(repo, ref)
	}
	return plumbing.ZeroHash, ErrRefNotFound
}

// peeledRef resolves a reference to the commit it names, peeling annotated tags.
func peeledRef(repo *git.Repository, name plumbing.ReferenceName) (plumbing.Hash, error) {
	r, err := repo.Reference(name, true)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return peel(repo, r.Hash())
}

func peel(repo *git.Repository, h plumbing.Hash) (plumbing.Hash, error) {
	if tag, err := repo.TagObject(h); err == nil {
		c, err := tag.Commit()
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("tag %s: %w", tag.Name, err)
		}
		return c.Hash, nil
	}
	if _, err := repo.CommitObject(h); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s: %w", h, err)
	}
	return h, nil
}

func commitByPrefix(repo *git.Repository, prefix string) (plumbing.Hash, error) {
	iter, err := repo.CommitObjects()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer iter.Close()
	var found []plumbing.Hash
	err = iter.ForEach(func(c *object.Commit) error {
		if strings.HasPrefix(c.Hash.String(), prefix) {
			found = append(found, c.Hash)
		}
		return nil
	})
	switch {
	case err != nil:
		return plumbing.ZeroHash, err
	case len(found) == 0:
		return plumbing.ZeroHash, ErrRefNotFound
	case len(found) > 1:
		return plumbing.ZeroHash, fmt.Errorf("%w: %d commits start with %s", ErrAmbiguousRef, len(found), prefix)
	}
	return found[0], nil
}

// Versions lists the source's release tags (see ParseVersion: X.Y.Z+upstream, or plain
// semver with or without a "v"), lightweight or annotated, with their commits, oldest first
// by recipe semver. Tags that are not release tags are ignored.
func (s *Source) Versions(ctx context.Context) ([]Version, error) {
	var vs []Version
	err := s.read(ctx, func(repo *git.Repository) error {
		var err error
		vs, err = versions(repo)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list versions of %s: %w", s.URL(), err)
	}
	return vs, nil
}

// Tag is one tag of a recipe source that names a commit.
type Tag struct {
	Name   string
	Commit string
	// Annotated says the tag is a tag object (git tag -a), not a bare reference.
	Annotated bool
}

// Tags lists the source's tags that name commits, release tags or not, sorted by name.
// Tags of trees or blobs are left out.
func (s *Source) Tags(ctx context.Context) ([]Tag, error) {
	var ts []Tag
	err := s.read(ctx, func(repo *git.Repository) error {
		var err error
		ts, err = tags(repo)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", s.URL(), err)
	}
	return ts, nil
}

func tags(repo *git.Repository) ([]Tag, error) {
	iter, err := repo.Tags()
	if err != nil {
		return nil, err
	}
	defer iter.Close()
	var ts []Tag
	err = iter.ForEach(func(r *plumbing.Reference) error {
		name := r.Name().Short()
		h, err := peel(repo, r.Hash())
		if errors.Is(err, object.ErrUnsupportedObject) || errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil // a tag of a tree or blob names no commit
		}
		if err != nil {
			return fmt.Errorf("tag %s: %w", name, err)
		}
		_, objErr := repo.TagObject(r.Hash())
		ts = append(ts, Tag{Name: name, Commit: h.String(), Annotated: objErr == nil})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ts, func(a, b Tag) int { return strings.Compare(a.Name, b.Name) })
	return ts, nil
}

func versions(repo *git.Repository) ([]Version, error) {
	ts, err := tags(repo)
	if err != nil {
		return nil, err
	}
	var vs []Version
	for _, t := range ts {
		if _, err := ParseVersion(t.Name); err == nil {
			vs = append(vs, Version{Tag: t.Name, Commit: t.Commit})
		}
	}
	SortVersions(vs)
	return vs, nil
}

// versionAt is the newest release tag at commit, empty when there is none.
func versionAt(repo *git.Repository, commit string) (string, error) {
	vs, err := versions(repo)
	if err != nil {
		return "", err
	}
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].Commit == commit {
			return vs[i].Tag, nil
		}
	}
	return "", nil
}

// VersionOf is the newest release tag pointing at commit (a full id), empty when the commit
// is not a release.
func (s *Source) VersionOf(ctx context.Context, commit string) (string, error) {
	var v string
	err := s.read(ctx, func(repo *git.Repository) error {
		var err error
		v, err = versionAt(repo, commit)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("version of %s in %s: %w", shortHash(commit), s.URL(), err)
	}
	return v, nil
}

// TargetBranch finds the branch a change merges onto and its tip commit: preferred when
// set, otherwise main, falling back to master. It returns the branch it used.
func (s *Source) TargetBranch(ctx context.Context, preferred string) (branch, commit string, err error) {
	candidates := []string{"main", "master"}
	if preferred != "" {
		candidates = []string{preferred}
	}
	err = s.read(ctx, func(repo *git.Repository) error {
		for _, b := range candidates {
			for _, name := range []plumbing.ReferenceName{
				plumbing.NewBranchReferenceName(b),
				plumbing.NewRemoteReferenceName(git.DefaultRemoteName, b),
			} {
				h, err := peeledRef(repo, name)
				if errors.Is(err, plumbing.ErrReferenceNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				branch, commit = b, h.String()
				return nil
			}
		}
		return fmt.Errorf("%w: tried %s", ErrNoTargetBranch, strings.Join(candidates, ", "))
	})
	if err != nil {
		return "", "", fmt.Errorf("target branch of %s: %w", s.URL(), err)
	}
	return branch, commit, nil
}

// Dirty reports whether a local source's working tree has uncommitted changes (modified,
// staged or untracked files that .gitignore does not exclude). Mirrors and bare
// repositories are never dirty.
func (s *Source) Dirty(ctx context.Context) (bool, error) {
	if !s.local {
		return false, nil
	}
	var dirty bool
	err := s.read(ctx, func(repo *git.Repository) error {
		wt, err := repo.Worktree()
		if errors.Is(err, git.ErrIsBareRepository) {
			return nil
		}
		if err != nil {
			return err
		}
		st, err := wt.Status()
		if err != nil {
			return err
		}
		dirty = !st.IsClean()
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("status of %s: %w", s.URL(), err)
	}
	return dirty, nil
}

// ChaosVersion is the chaos-version label of a deploy of commit: its first 8 hex digits,
// plus "+U" when the working tree had uncommitted changes.
func ChaosVersion(commit string, dirty bool) string {
	v := shortHash(commit)
	if dirty {
		v += "+U"
	}
	return v
}

func shortHash(h string) string {
	if len(h) > 8 {
		return h[:8]
	}
	return h
}

func isLowerHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return s != ""
}

// isLocalPath tells a filesystem path from a git URL: URLs have a scheme ("https://",
// "file://") or the scp-like "user@host:path" form.
func isLocalPath(s string) bool {
	if filepath.IsAbs(s) || s == "." || s == ".." || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") {
		return true
	}
	if strings.Contains(s, "://") {
		return false
	}
	// scp-like: a colon before the first slash, as in git@host:recipes/app.git.
	colon, slash := strings.IndexByte(s, ':'), strings.IndexByte(s, '/')
	return colon < 0 || (slash >= 0 && slash < colon)
}

// mirrorName is the mirror's file name: the repository's base name for people, and a hash
// of the whole URL so that different URLs never share a mirror.
func mirrorName(rawURL string) string {
	sum := sha256.Sum256([]byte(rawURL))
	base := strings.TrimSuffix(path.Base(strings.TrimRight(rawURL, "/")), ".git")
	base = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, base)
	if len(base) > 40 {
		base = base[:40]
	}
	return base + "-" + hex.EncodeToString(sum[:8])
}

// RedactURL removes the user info of a URL (a password, or a token given as the user
// name), so that a source can be named in logs, errors and status.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	u.User = url.User("xxxxx")
	return u.String()
}

// redactedError masks a URL's credentials in an error's text: transport errors quote the
// URL. Unwrap keeps errors.Is working on the cause.
type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return msg
}

func (e *redactedError) Unwrap() error { return e.err }

// redact wraps err so that its text cannot show rawURL's credentials.
func redact(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	var secrets []string
	if pw, ok := u.User.Password(); ok && pw != "" {
		secrets = append(secrets, url.QueryEscape(pw), pw)
	}
	if name := u.User.Username(); name != "" {
		secrets = append(secrets, name)
	}
	return &redactedError{err: err, secrets: secrets}
}

// openRepo opens a repository at p: bare, plain, or a linked worktree (whose refs live in
// the main repository's common directory).
func openRepo(p string) (*git.Repository, error) {
	return git.PlainOpenWithOptions(p, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
}
