package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// MaxSize bounds one spec source. Real specs are a few kilobytes; the bound keeps a stray
// pipe or a binary file from being read into memory whole.
const MaxSize = 8 << 20

// StdinName is the File of problems found in specs read from standard input.
const StdinName = "<stdin>"

// Document is one object read from a spec source, decoded, defaulted and validated.
type Document struct {
	// Source is the file the object came from, or StdinName.
	Source string
	// Index is the document's position in Source, counting from 1 and counting empty
	// documents too, so that it matches what an editor shows between the --- lines.
	Index int
	// Line is the line the document starts on.
	Line int
	// Object is a *v1alpha1.Recipe, a *v1alpha1.TestRun or a *v1alpha1.Repository. Its status
	// is always empty: status belongs to the controllers, so a status in a file (as `get -o
	// yaml` prints it) is dropped.
	Object v1alpha1.Object
}

// ReadPath reads path: a file, a directory (see ReadDir), or "-" for standard input.
func ReadPath(path string) ([]Document, error) {
	if path == "-" {
		return Read(StdinName, os.Stdin)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading specs: %w", err)
	}
	if fi.IsDir() {
		return ReadDir(path)
	}
	return ReadFile(path)
}

// ReadFile reads the documents of one YAML or JSON file. See Read.
func ReadFile(path string) ([]Document, error) {
	data, err := readAll(path)
	if err != nil {
		return nil, err
	}
	return finish(parse(path, data))
}

// ReadDir reads every *.yaml and *.yml file directly in dir, in name order, as one set: a
// problem in one file fails them all. Subdirectories are not read.
func ReadDir(dir string) ([]Document, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading specs: %w", err)
	}
	var (
		docs     []Document
		problems []Problem
		files    int
	)
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if ext != ".yaml" && ext != ".yml" {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			continue // a directory named like a file; a dangling link fails to read below
		}
		files++
		data, err := readAll(path)
		if err != nil {
			return nil, err
		}
		d, p := parse(path, data)
		docs, problems = append(docs, d...), append(problems, p...)
	}
	if files == 0 {
		return nil, fmt.Errorf("reading specs: no *.yaml or *.yml files in %s", dir)
	}
	return finish(docs, problems)
}

// Read reads the documents of one source named name. The source is YAML (JSON is YAML too),
// with documents separated by ---. Empty documents are skipped. Every document must be a
// mapping with a supported apiVersion and kind, or a list of such objects as `swarmrun get -o
// yaml` prints (kind RecipeList, TestRunList or List, with items), which gives one Document
// per item. Unknown fields are errors.
//
// Read is all or nothing: when anything is wrong it returns no documents and an *Error with
// every problem of every document, so that a caller cannot store half of a bad set. Other
// errors are failures to read.
func Read(name string, r io.Reader) ([]Document, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading specs from %s: %w", name, err)
	}
	return finish(parse(name, data))
}

func readAll(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading specs: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading specs from %s: %w", path, err)
	}
	return data, nil
}

// finish checks the set as a whole and returns it, or every problem found.
func finish(docs []Document, problems []Problem) ([]Document, error) {
	problems = append(problems, duplicates(docs)...)
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return docs, nil
}

// duplicates reports an object defined twice in one set: applying the set would quietly keep
// the last, which is never what was meant.
func duplicates(docs []Document) []Problem {
	var problems []Problem
	first := map[string]Document{}
	for _, d := range docs {
		key := objectName(d.Object)
		if prev, ok := first[key]; ok {
			problems = append(problems, Problem{
				File: d.Source, Doc: d.Index, Object: key, Field: "metadata.name", Line: d.Line,
				Message: fmt.Sprintf("%s is defined twice (first in %s:%d)", key, prev.Source, prev.Line),
			})
			continue
		}
		first[key] = d
	}
	return problems
}

// parse decodes every document of one source.
func parse(name string, data []byte) ([]Document, []Problem) {
	if len(data) > MaxSize {
		return nil, []Problem{{File: name, Message: fmt.Sprintf("larger than %d MiB", MaxSize>>20)}}
	}
	var (
		docs     []Document
		problems []Problem
	)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	b := &budget{left: maxValues}
	for index := 1; ; index++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The parser cannot find the start of the next document after a syntax error,
			// so this is the last problem this source gives.
			line, msg := syntaxError(err)
			problems = append(problems, Problem{File: name, Doc: index, Line: line, Message: "invalid YAML: " + msg})
			break
		}
		d, ps := document(name, index, &n, b)
		docs, problems = append(docs, d...), append(problems, ps...)
	}
	return docs, problems
}

// syntaxError splits the YAML library's "yaml: line 4: did not find ..." into its line and the
// rest; the line is 0 when the message has none.
func syntaxError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return 0, msg
	}
	num, text, ok := strings.Cut(rest, ": ")
	line, err := strconv.Atoi(num)
	if !ok || err != nil || line <= 0 {
		return 0, msg
	}
	return line, text
}
