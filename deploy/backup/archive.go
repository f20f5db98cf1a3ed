package backup

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Artifact is a file a backup wrote: where, its sha256 digest (hex) and size in bytes.
type Artifact struct {
	Path   string
	SHA256 string
	Size   int64
}

// ErrTooLarge is the error of a backup whose files exceed the runner's MaxArchive.
var ErrTooLarge = errors.New("backup too large")

// archiveWriter writes a .tar.gz to a temporary file beside its destination and renames it
// into place once whole, so a reader never sees half an archive. It counts the tar bytes it
// is given against a bound: the files come from a head's containers, which are not trusted.
type archiveWriter struct {
	dst  string
	tmp  *os.File
	hash io.Writer
	sum  func() string
	gz   *gzip.Writer
	tw   *tar.Writer
	left int64
	max  int64
}

func newArchiveWriter(dst string, max int64) (*archiveWriter, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return nil, fmt.Errorf("backup archive: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
	if err != nil {
		return nil, fmt.Errorf("backup archive: %w", err)
	}
	h := sha256.New()
	gz := gzip.NewWriter(io.MultiWriter(tmp, h))
	return &archiveWriter{dst: dst, tmp: tmp, hash: h, sum: func() string { return hex.EncodeToString(h.Sum(nil)) },
		gz: gz, tw: tar.NewWriter(gz), left: max, max: max}, nil
}

// add copies the entries of a tar the engine gave for a path whose base name is base into
// the archive, renamed under prefix: base → prefix, base/x → prefix/x. It returns how many
// entries it copied.
func (w *archiveWriter) add(r io.Reader, base, prefix string) (int, error) {
	n, err := retar(tar.NewReader(r), w.tw, base, prefix, &w.left, nil)
	if errors.Is(err, ErrTooLarge) {
		return n, fmt.Errorf("%w: more than %d MiB", ErrTooLarge, w.max>>20)
	}
	return n, err
}

// retar copies the entries of tr named under base (base itself, base/…) into tw, renamed
// with rebase(…, base, to); entries elsewhere are skipped, and so are those keep refuses
// (by their new name). Every entry costs its size and a header against *left, when left is
// set; running out is ErrTooLarge.
func retar(tr *tar.Reader, tw *tar.Writer, base, to string, left *int64, keep func(name string) bool) (int, error) {
	n := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("read archive: %w", err)
		}
		if left != nil {
			if *left -= 512 + hdr.Size; *left < 0 {
				return n, ErrTooLarge
			}
		}
		clean := path.Clean(strings.TrimSuffix(hdr.Name, "/"))
		if clean != base && !strings.HasPrefix(clean, base+"/") {
			continue
		}
		name, err := rebase(hdr.Name, base, to)
		if err != nil {
			return n, err
		}
		if keep != nil && !keep(name) {
			continue
		}
		hdr.Name = name
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return n, fmt.Errorf("write archive: %w", err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return n, fmt.Errorf("write archive: %w", err)
		}
		n++
	}
}

// finish closes the archive and moves it into place.
func (w *archiveWriter) finish() (Artifact, error) {
	defer os.Remove(w.tmp.Name())
	for _, c := range []io.Closer{w.tw, w.gz} {
		if err := c.Close(); err != nil {
			w.tmp.Close()
			return Artifact{}, fmt.Errorf("write archive: %w", err)
		}
	}
	if err := w.tmp.Sync(); err != nil {
		w.tmp.Close()
		return Artifact{}, fmt.Errorf("write archive: %w", err)
	}
	st, err := w.tmp.Stat()
	if err != nil {
		w.tmp.Close()
		return Artifact{}, fmt.Errorf("write archive: %w", err)
	}
	if err := w.tmp.Close(); err != nil {
		return Artifact{}, fmt.Errorf("write archive: %w", err)
	}
	if err := os.Rename(w.tmp.Name(), w.dst); err != nil {
		return Artifact{}, fmt.Errorf("write archive: %w", err)
	}
	return Artifact{Path: w.dst, SHA256: w.sum(), Size: st.Size()}, nil
}

// abort drops the unfinished archive.
func (w *archiveWriter) abort() {
	w.tmp.Close()
	os.Remove(w.tmp.Name())
}

// rebase renames an entry of the engine's tar of a path with base name base to lie under
// prefix. Names that leave the tree (.., absolute) or do not start with base are refused.
func rebase(name, base, prefix string) (string, error) {
	clean := path.Clean(strings.TrimSuffix(name, "/"))
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("archive entry %q leaves its directory", name)
	}
	switch {
	case clean == base:
		return path.Clean(prefix), nil
	case strings.HasPrefix(clean, base+"/"):
		return path.Clean(prefix + clean[len(base):]), nil
	}
	return "", fmt.Errorf("archive entry %q is not under %q", name, base)
}

// digest is the sha256 (hex) and size of a file.
func digest(file string) (string, int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// entries streams the entries of archive under prefix as a new tar into w, each renamed with
// rebase(…, prefix, to) and kept when keep (if set) accepts the new name. It returns how many
// entries it wrote. The archive is read with the bound it was written with.
func entries(archive, prefix, to string, max int64, keep func(name string) bool, w io.Writer) (int, error) {
	f, err := os.Open(archive)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", filepath.Base(archive), err)
	}
	defer gz.Close()
	tw := tar.NewWriter(w)
	n, err := retar(tar.NewReader(gz), tw, prefix, to, &max, keep)
	if err != nil {
		return n, fmt.Errorf("read %s: %w", filepath.Base(archive), err)
	}
	return n, tw.Close()
}

// fileInArchive returns the content of the regular file name in archive, and whether it is
// there. Content is read up to limit bytes.
func fileInArchive(archive, name string, limit int64) (string, bool, error) {
	f, err := os.Open(archive)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return "", false, err
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		if path.Clean(hdr.Name) == name && hdr.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(io.LimitReader(tr, limit))
			return string(b), true, err
		}
	}
}

// oneFile is a tar holding one regular file.
func oneFile(name, content string) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(content))})
		if err == nil {
			_, err = io.WriteString(tw, content)
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// readOne reads the content of the single regular file of a tar the engine gave, up to
// limit bytes.
func readOne(r io.Reader, limit int64) (string, error) {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", errors.New("no file in the engine's archive")
		}
		if err != nil {
			return "", err
		}
		if hdr.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(io.LimitReader(tr, limit))
			return string(b), err
		}
	}
}
