package recipetest

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Entry is one raw entry of a tree, written exactly as given: in order, duplicates and all.
type Entry struct {
	// Path is slash-separated. Each directory on the way is the last directory entry of that
	// name in its tree, made when there is none (even when a file or symlink has the name:
	// that makes the name appear twice). The entry itself is always added, so a Path given
	// twice is listed twice.
	Path string `json:"path"`
	// Content of a file; Link, when set, makes the entry a symlink to it instead.
	Content string `json:"content,omitempty"`
	Link    string `json:"link,omitempty"`
	// Executable marks a file executable.
	Executable bool `json:"executable,omitempty"`
	// ClaimSize, when set, makes the file a blob whose header says ClaimSize bytes while
	// holding only Content: a tree that claims a huge file without anyone storing it.
	ClaimSize int64 `json:"claimSize,omitempty"`
	// Repeat, when set, adds Repeat files Path/00000, Path/00001, ... with Content.
	Repeat int `json:"repeat,omitempty"`
}

// node is a tree being built.
type node struct {
	entries []nodeEntry
}

type nodeEntry struct {
	name string
	mode filemode.FileMode
	hash plumbing.Hash // of a blob; trees get theirs when encoded
	sub  *node
}

// Commit makes a bare repository under a new temporary directory whose branch main (and
// HEAD) is one commit with exactly entries as its tree, and returns the repository's path
// and the commit id.
func Commit(t testing.TB, entries []Entry) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "recipe.git")
	repo, err := git.PlainInit(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	root := &node{}
	for _, e := range entries {
		if err := add(repo.Storer, dir, root, e); err != nil {
			t.Fatalf("entry %s: %v", e.Path, err)
		}
	}
	tree, err := encodeTree(repo.Storer, root)
	if err != nil {
		t.Fatal(err)
	}
	sig := object.Signature{Name: "hostile", Email: "hostile@example.org", When: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	c := &object.Commit{Author: sig, Committer: sig, Message: "hostile head\n", TreeHash: tree}
	obj := repo.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		t.Fatal(err)
	}
	h, err := repo.Storer.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	main := plumbing.NewBranchReferenceName("main")
	if err := repo.Storer.SetReference(plumbing.NewHashReference(main, h)); err != nil {
		t.Fatal(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, main)); err != nil {
		t.Fatal(err)
	}
	return dir, h.String()
}

func add(s storer.EncodedObjectStorer, dir string, root *node, e Entry) error {
	if e.Repeat > 0 {
		blob, err := storeBlob(s, e.Content)
		if err != nil {
			return err
		}
		n := walk(root, strings.Split(e.Path, "/"))
		for i := range e.Repeat {
			n.entries = append(n.entries, nodeEntry{name: fmt.Sprintf("%05d", i), mode: filemode.Regular, hash: blob})
		}
		return nil
	}
	parts := strings.Split(e.Path, "/")
	n := walk(root, parts[:len(parts)-1])
	ne := nodeEntry{name: parts[len(parts)-1], mode: filemode.Regular}
	var err error
	switch {
	case e.Link != "":
		ne.mode = filemode.Symlink
		ne.hash, err = storeBlob(s, e.Link)
	case e.ClaimSize > 0:
		ne.hash, err = claimBlob(dir, e.ClaimSize, e.Content)
	default:
		ne.hash, err = storeBlob(s, e.Content)
	}
	if e.Executable {
		ne.mode = filemode.Executable
	}
	n.entries = append(n.entries, ne)
	return err
}

// walk returns the node at dirs, making directory entries where the last entry of a name is
// not a directory.
func walk(n *node, dirs []string) *node {
	for _, d := range dirs {
		var next *node
		for i := len(n.entries) - 1; i >= 0; i-- {
			if n.entries[i].name == d && n.entries[i].mode == filemode.Dir {
				next = n.entries[i].sub
				break
			}
		}
		if next == nil {
			next = &node{}
			n.entries = append(n.entries, nodeEntry{name: d, mode: filemode.Dir, sub: next})
		}
		n = next
	}
	return n
}

func storeBlob(s storer.EncodedObjectStorer, content string) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write([]byte(content)); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

// claimBlob writes a loose object whose header claims size bytes but which holds only
// content. Its id is made up: nothing checks it before the content is read.
func claimBlob(dir string, size int64, content string) (plumbing.Hash, error) {
	h := plumbing.Hash(sha1.Sum([]byte(fmt.Sprintf("claim %d %s", size, content))))
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	fmt.Fprintf(zw, "blob %d\x00%s", size, content)
	if err := zw.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	hex := h.String()
	p := filepath.Join(dir, "objects", hex[:2], hex[2:])
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return plumbing.ZeroHash, err
	}
	return h, os.WriteFile(p, buf.Bytes(), 0o444)
}

// encodeTree stores n's subtrees, then n, entries in the order given: go-git's encoder
// insists on sorted entries, and a hostile tree is whatever its author wrote.
func encodeTree(s storer.EncodedObjectStorer, n *node) (plumbing.Hash, error) {
	var buf bytes.Buffer
	for _, e := range n.entries {
		h := e.hash
		if e.sub != nil {
			var err error
			if h, err = encodeTree(s, e.sub); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		fmt.Fprintf(&buf, "%o %s\x00", uint32(e.mode), e.name)
		buf.Write(h[:])
	}
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.TreeObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}
