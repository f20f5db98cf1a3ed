package statuspage

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/reconcile/results"
	"github.com/swarmrun/swarmrun/spec"
)

// resultFiles are the files of a run the page links to and serves, with their media types;
// no other name under <data-dir>/runs is ever served.
var resultFiles = []struct{ name, contentType string }{
	{results.JSONFile, "application/json"},
	{results.JUnitFile, "application/xml; charset=utf-8"},
	{results.SummaryFile, "text/markdown; charset=utf-8"},
}

func contentType(file string) (string, bool) {
	for _, f := range resultFiles {
		if f.name == file {
			return f.contentType, true
		}
	}
	return "", false
}

// runFiles opens result files under <data-dir>/runs through an os.Root: a path that leaves
// the directory, by "..", an absolute path or a symlink, fails to open.
type runFiles struct {
	root *os.Root // nil when there is no runs directory yet
}

func (p *Page) files() *runFiles {
	root, err := os.OpenRoot(filepath.Join(p.o.DataDir, "runs"))
	if err != nil {
		return &runFiles{}
	}
	return &runFiles{root: root}
}

func (f *runFiles) close() {
	if f.root != nil {
		f.root.Close()
	}
}

// of lists the result files of run that exist, as links.
func (f *runFiles) of(run string) []fileLink {
	if f.root == nil || !spec.ValidName(run) {
		return nil
	}
	var out []fileLink
	for _, rf := range resultFiles {
		if fi, err := f.root.Stat(path.Join(run, rf.name)); err == nil && fi.Mode().IsRegular() {
			out = append(out, fileLink{Name: rf.name, URL: "/runs/" + run + "/" + rf.name})
		}
	}
	return out
}

// open opens run's file for reading, a regular file only.
func (f *runFiles) open(run, file string) (*os.File, fs.FileInfo, error) {
	if f.root == nil {
		return nil, nil, fs.ErrNotExist
	}
	fh, err := f.root.Open(path.Join(run, file))
	if err != nil {
		return nil, nil, err
	}
	fi, err := fh.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	return fh, fi, nil
}

// maxResultBytes bounds a result file the page serves: results are a few KiB, and a file
// that is not swarmrun's is not read whole.
const maxResultBytes = 16 << 20

// file serves /runs/<testrun>/<file>: one of the three result files of a TestRun that
// exists. results.json goes out with every env value replaced by ***.
func (p *Page) file(w http.ResponseWriter, r *http.Request) {
	run, file := r.PathValue("name"), r.PathValue("file")
	ct, ok := contentType(file)
	if !ok || !spec.ValidName(run) {
		http.NotFound(w, r)
		return
	}
	if err := p.o.Store.Get(r.Context(), run, &v1alpha1.TestRun{}); err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			logr.FromContextOrDiscard(r.Context()).Error(err, "result file not served", "testrun", run, "file", file)
		}
		http.NotFound(w, r)
		return
	}
	files := p.files()
	defer files.close()
	fh, fi, err := files.open(run, file)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxResultBytes+1))
	if err == nil && len(data) > maxResultBytes {
		err = errors.New("larger than 16 MiB")
	}
	if err == nil && file == results.JSONFile {
		data, err = withoutEnvValues(data)
	}
	if err != nil {
		logr.FromContextOrDiscard(r.Context()).Error(err, "result file not served", "testrun", run, "file", file)
		http.Error(w, "result file unavailable", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, file, fi.ModTime().Truncate(time.Second), bytes.NewReader(data))
}

// withoutEnvValues re-encodes results.json with every env value replaced by ***: the page
// never shows env values, secret-shaped or not.
func withoutEnvValues(data []byte) ([]byte, error) {
	var res results.Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, err
	}
	for k := range res.Env {
		res.Env[k] = "***"
	}
	out, err := json.MarshalIndent(res, "", "  ")
	return append(out, '\n'), err
}
