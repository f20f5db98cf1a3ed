package recipe

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/deploy/recipe/recipetest"
)

// chainEntries are symlinks each of which looks harmless on its own (its text stays inside),
// b<N> landing N directories above the checkout on disk, and canary -> b10/etc/passwd.
func chainEntries() []recipetest.Entry {
	es := []recipetest.Entry{{Path: "a0", Link: "."}, {Path: "b01", Link: "a0/.."}}
	for i := 2; i <= 10; i++ {
		es = append(es, recipetest.Entry{Path: fmtB(i), Link: fmtB(i-1) + "/.."})
	}
	return append(es, recipetest.Entry{Path: "canary", Link: "b10/etc/passwd"})
}

func fmtB(i int) string { return "b" + string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func compose(extra ...recipetest.Entry) []recipetest.Entry {
	return append([]recipetest.Entry{{Path: "compose.yml", Content: "services: {app: {image: nginx}}\n"}}, extra...)
}

// TestMaterialiseRefusesHostileTrees: each tree is refused from its metadata, before the
// directory is even made, with nothing written or read around it.
func TestMaterialiseRefusesHostileTrees(t *testing.T) {
	tests := []struct {
		name    string
		entries []recipetest.Entry
		opts    Options
		tooBig  bool
		want    string
	}{
		{
			name:    "a file listed twice",
			entries: compose(recipetest.Entry{Path: "compose.yml", Content: "services: {app: {image: evil}}\n"}),
			want:    `the tree lists "compose.yml" twice (as a file and as a file)`,
		},
		{
			name:    "a file and a directory of one name",
			entries: compose(recipetest.Entry{Path: "d", Content: "x"}, recipetest.Entry{Path: "d/x", Content: "y"}),
			want:    `the tree lists "d" twice (as a file and as a directory)`,
		},
		{
			// b04 is the test's own directory: without the check, pwned.txt lands there.
			name: "a file under a symlinked directory",
			entries: append(compose(chainEntries()[:5]...),
				recipetest.Entry{Path: "d", Link: "b04"}, recipetest.Entry{Path: "d/pwned.txt", Content: "pwned\n"}),
			want: `the tree lists "d" both as a symlink and as a directory: its files would be written through the link`,
		},
		{
			name:    "a symlink chain out of the checkout",
			entries: compose(chainEntries()...),
			want:    `symlink "b01" -> "a0/.." resolves outside the recipe checkout`,
		},
		{
			name:    "an absolute symlink",
			entries: compose(recipetest.Entry{Path: "key", Link: "/var/lib/swarmrun/secret.key"}),
			want:    `symlink "key" -> "/var/lib/swarmrun/secret.key" is absolute`,
		},
		{
			name:    "a symlink through a symlinked directory",
			entries: compose(recipetest.Entry{Path: "up", Link: "sub/.."}, recipetest.Entry{Path: "sub/x", Content: "x"}, recipetest.Entry{Path: "k", Link: "up/../secret.key"}),
			want:    `symlink "k" -> "up/../secret.key" resolves outside the recipe checkout`,
		},
		{
			name:    "git metadata",
			entries: compose(recipetest.Entry{Path: ".git/hooks/post-checkout", Content: "#!/bin/sh\n", Executable: true}),
			want:    `tree entry "/.git" has an invalid name`,
		},
		{
			name:    "a dot-dot entry",
			entries: compose(recipetest.Entry{Path: "../escape.txt", Content: "x"}),
			want:    `tree entry "/.." has an invalid name`,
		},
		{
			name:    "a blob claiming more than 256 MiB",
			entries: compose(recipetest.Entry{Path: "blob.bin", ClaimSize: 256<<20 + 1, Content: "x"}),
			tooBig:  true,
			want:    `the tree holds more than 268435456 bytes of files (the limit); stopped at "blob.bin" (268435457 bytes)`,
		},
		{
			name:    "more than 20,000 entries",
			entries: compose(recipetest.Entry{Path: "many", Repeat: 20000}),
			tooBig:  true,
			want:    `the tree holds more than 20000 files and directories (the limit); stopped at "many/19998"`,
		},
		{
			name:    "over a lowered byte limit",
			entries: compose(recipetest.Entry{Path: "big", Content: strings.Repeat("x", 1000)}),
			opts:    Options{MaxBytes: 1000},
			tooBig:  true,
			want:    `the tree holds more than 1000 bytes of files (the limit); stopped at "big" (1000 bytes)`,
		},
		{
			name:    "over a lowered count limit",
			entries: compose(recipetest.Entry{Path: "a", Content: "a"}, recipetest.Entry{Path: "b", Content: "b"}),
			opts:    Options{MaxFiles: 2},
			tooBig:  true,
			want:    `the tree holds more than 2 files and directories (the limit); stopped at "b"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := recipetest.NewLayout(t)
			repo, commit := recipetest.Commit(t, tt.entries)
			snap := recipetest.Snap(t, l.Top)
			src, err := NewCache(tt.opts).Open(t.Context(), repo)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = src.Materialise(t.Context(), commit, l.Checkout)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("refusing took %s", took)
			}
			if !errors.Is(err, ErrUnsafe) || errors.Is(err, ErrTooLarge) != tt.tooBig {
				t.Fatalf("Materialise = %v; want ErrUnsafe (ErrTooLarge %v)", err, tt.tooBig)
			}
			if !strings.HasSuffix(err.Error(), ": "+tt.want) {
				t.Errorf("error = %q\nwant it to end in %q", err, tt.want)
			}
			if _, err := os.Lstat(l.Checkout); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the refused tree's directory was made: %v", err)
			}
			snap.Unchanged(t)
			recipetest.NoCanary(t, "the error", []byte(err.Error()))
		})
	}
}

// TestMaterialiseWithinLimits: a tree at the limits is written.
func TestMaterialiseWithinLimits(t *testing.T) {
	repo, commit := recipetest.Commit(t, compose(recipetest.Entry{Path: "d/big", Content: strings.Repeat("x", 1000)}))
	src, err := NewCache(Options{MaxBytes: 1000 + 32, MaxFiles: 3}).Open(t.Context(), repo)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "co")
	if err := src.Materialise(t.Context(), commit, dir); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "d", "big")); len(got) != 1000 {
		t.Errorf("d/big holds %d bytes", len(got))
	}
}

// TestMaterialiseSymlinksInside: symlinks that resolve inside the checkout, through other
// symlinks and "..", are written as they are.
func TestMaterialiseSymlinksInside(t *testing.T) {
	repo, commit := recipetest.Commit(t, compose(
		recipetest.Entry{Path: "sub/x.conf", Content: "x"},
		recipetest.Entry{Path: "a", Link: "b"},
		recipetest.Entry{Path: "b", Link: "sub"},
		recipetest.Entry{Path: "top", Link: "sub/.."},
		recipetest.Entry{Path: "sub/up", Link: "../compose.yml"},
		recipetest.Entry{Path: "via", Link: "a/../top/sub/x.conf"},
	))
	src, err := NewCache(Options{}).Open(t.Context(), repo)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "co")
	if err := src.Materialise(t.Context(), commit, dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a/x.conf": "x", "top/compose.yml": "services: {app: {image: nginx}}\n", "sub/up": "services: {app: {image: nginx}}\n", "via": "x"} {
		if got := readFile(t, filepath.Join(dir, name)); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// TestMaterialiseBlobShorterThanItsHeader: a file is written no longer than the size the
// limits counted, and one whose content disagrees with its header is refused.
func TestMaterialiseBlobShorterThanItsHeader(t *testing.T) {
	repo, commit := recipetest.Commit(t, compose(recipetest.Entry{Path: "liar.bin", ClaimSize: 2 << 20, Content: "short"}))
	src, err := NewCache(Options{}).Open(t.Context(), repo)
	if err != nil {
		t.Fatal(err)
	}
	err = src.Materialise(t.Context(), commit, filepath.Join(t.TempDir(), "co"))
	if err == nil {
		t.Fatal("a blob shorter than its header was materialised")
	}
}

func TestResolveInside(t *testing.T) {
	tests := []struct {
		links  map[string]string
		name   string
		inside bool
	}{
		{map[string]string{"a": "b"}, "a", true},
		{map[string]string{"d/a": "../b"}, "d/a", true},
		{map[string]string{"a": "../b"}, "a", false},
		{map[string]string{"a": "/etc"}, "a", false},
		{map[string]string{"a0": ".", "b": "a0/.."}, "b", false},
		{map[string]string{"a0": ".", "b": "a0/x/.."}, "b", true},
		{map[string]string{"s": "d/..", "k": "s/../x"}, "k", false},
		{map[string]string{"s": "d", "k": "s/../x"}, "k", true},
		{map[string]string{"abs": "/", "k": "abs/etc"}, "k", false},
		{map[string]string{"l": "l"}, "l", false},
		{map[string]string{"d/l": "../d/../d/x"}, "d/l", true},
	}
	for _, tt := range tests {
		err := resolveInside(tt.links, tt.name)
		if (err == nil) != tt.inside {
			t.Errorf("resolveInside(%v, %s) = %v, want inside %v", tt.links, tt.name, err, tt.inside)
		}
	}
}

// TestMaterialiseWorkingTreeRefusesEscapes: a local working tree follows the same rules.
func TestMaterialiseWorkingTreeRefusesEscapes(t *testing.T) {
	r := newTestRepo(t, "main")
	r.commit("one", map[string]string{"compose.yml": "x"})
	for _, l := range [][2]string{{"a0", "."}, {"b1", "a0/.."}, {"canary", "b1/secret.key"}} {
		if err := os.Symlink(l[1], filepath.Join(r.dir, l[0])); err != nil {
			t.Fatal(err)
		}
	}
	s := openLocal(t, r.dir)
	dir := filepath.Join(t.TempDir(), "co")
	err := s.MaterialiseWorkingTree(t.Context(), dir)
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), `symlink "b1" -> "a0/.." resolves outside`) {
		t.Errorf("MaterialiseWorkingTree = %v, want a refusal of the chain", err)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused tree's directory was made: %v", err)
	}

	r2 := newTestRepo(t, "main")
	r2.commit("one", map[string]string{"compose.yml": "x", "a": "a", "b": "b"})
	s2, err := NewCache(Options{MaxFiles: 2}).Open(t.Context(), r2.dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.MaterialiseWorkingTree(t.Context(), filepath.Join(t.TempDir(), "co")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaterialiseWorkingTree over MaxFiles = %v, want ErrTooLarge", err)
	}
}
