package render

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a bad compose input: a file that cannot be read or parsed, or a document the
// loader or converter of `docker stack deploy` rejects. Every error Render returns for bad
// input is an *Error, so a caller can tell "the recipe is wrong" (exit 2, nothing applied)
// from anything else with errors.As.
type Error struct {
	// File names the compose file as the caller gave it in Options.Files, or "overlay[i]"
	// for the i-th inline overlay. It is empty only when the options themselves are wrong.
	File string
	// Path is the dotted key path of the offending value (e.g. "services.app.image") when
	// the loader gives it or swarmrun can tell; empty otherwise.
	Path string
	// Line is the 1-based line in File of the offending key or syntax error; 0 when unknown.
	Line int
	// Err is the underlying error, with docker's own wording.
	Err error
}

// Error reads like a compiler diagnostic: "file:line: message".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	b.WriteString(e.message())
	return b.String()
}

// message is the underlying error on one line: yaml.v3 reports some errors over several
// lines, and a diagnostic that spans lines breaks condition messages and logs.
func (e *Error) message() string {
	if e.Err == nil {
		return "invalid compose input"
	}
	return strings.Join(strings.Fields(e.Err.Error()), " ")
}

// Unwrap gives access to the underlying error (for example fs.ErrNotExist).
func (e *Error) Unwrap() error { return e.Err }

// The loader reports positions only inside its messages; these patterns recover them. They
// follow docker/cli v28.5.2 wording, which the golden tests in testdata/bad pin.
var (
	yamlLinePattern = regexp.MustCompile(`(?:^|\s)line (\d+):`)
	// Interpolation errors name the key path, with "[]" for list items.
	interpolationPattern = regexp.MustCompile(`^(?:invalid interpolation format for|error while interpolating) ([^ :]+):`)
	// Schema errors start with the field path; the root is "(root)".
	schemaPattern = regexp.MustCompile(`^(\(root\)|(?:version|services|networks|volumes|secrets|configs)(?:\.[^ ]+)?) (.+)$`)
	// Additional property X is not allowed: X is the key to point at.
	additionalPattern = regexp.MustCompile(`^Additional property (\S+) is not allowed`)
)

// pathOf recovers the key path an error message of the loader names, or nil.
func pathOf(msg string) []string {
	if strings.HasPrefix(msg, "unsupported Compose file version") || strings.HasPrefix(msg, "version mismatched") {
		return []string{versionKey}
	}
	if m := interpolationPattern.FindStringSubmatch(msg); m != nil {
		path, _, _ := strings.Cut(m[1], ".[]")
		return strings.Split(path, ".")
	}
	m := schemaPattern.FindStringSubmatch(msg)
	if m == nil {
		return nil
	}
	var path []string
	if m[1] != "(root)" {
		path = strings.Split(m[1], ".")
	}
	if a := additionalPattern.FindStringSubmatch(m[2]); a != nil {
		path = append(path, a[1])
	}
	return path
}

// lineOf returns the line of a yaml syntax error message, or 0.
func lineOf(msg string) int {
	m := yamlLinePattern.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0
	}
	return n
}

// findLine returns the line of the node at path in a YAML document and how many segments
// of path it could follow; (0, 0) when the document does not parse or path is empty.
//
// A segment matches a mapping key, a list index, or a list item that names it: a scalar
// equal to it or starting with "it:" (volumes "data:/srv") or a mapping whose source is it
// (long syntax of secrets, configs and volumes).
func findLine(raw []byte, path []string) (line, depth int) {
	_, line, depth = nodeAt(raw, path)
	return line, depth
}

// nodeAt follows path in a YAML document as findLine does, and returns the deepest node it
// reached along with its line and depth; nil when the document does not parse.
func nodeAt(raw []byte, path []string) (node *yaml.Node, line, depth int) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Content) == 0 {
		return nil, 0, 0
	}
	node = doc.Content[0]
	line = node.Line
	for _, seg := range path {
		next, at := child(node, seg)
		if next == nil {
			break
		}
		node, line = next, at
		depth++
	}
	return node, line, depth
}

// scalarAt returns the scalar at path in a YAML document, if there is one.
func scalarAt(raw []byte, path []string) (string, bool) {
	node, _, depth := nodeAt(raw, path)
	if node == nil || depth != len(path) || node.Kind != yaml.ScalarNode {
		return "", false
	}
	return node.Value, true
}

// child finds seg under node; it returns the node to descend into and the line to report.
func child(node *yaml.Node, seg string) (*yaml.Node, int) {
	switch node.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			if node.Content[i].Value == seg {
				return node.Content[i+1], node.Content[i].Line
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(seg); err == nil {
			if i >= 0 && i < len(node.Content) {
				return node.Content[i], node.Content[i].Line
			}
			return nil, 0
		}
		for _, item := range node.Content {
			if item.Kind == yaml.ScalarNode && (item.Value == seg || strings.HasPrefix(item.Value, seg+":")) {
				return item, item.Line
			}
			if item.Kind == yaml.MappingNode {
				if src, _ := child(item, "source"); src != nil && src.Value == seg {
					return item, item.Line
				}
			}
		}
	}
	return nil, 0
}

// locate builds the *Error for a problem at path in the merged configuration: it names the
// last source that holds the deepest part of path, since later files override earlier ones.
func locate(sources []source, path []string, err error) *Error {
	best, bestDepth, bestLine := -1, -1, 0
	for i := len(sources) - 1; i >= 0; i-- {
		line, depth := findLine(sources[i].raw, path)
		if depth > bestDepth {
			best, bestDepth, bestLine = i, depth, line
		}
	}
	e := &Error{Path: strings.Join(path, "."), Err: err}
	if best >= 0 {
		e.File = sources[best].name
		if bestDepth > 0 {
			e.Line = bestLine
		}
	}
	return e
}

// fileError builds the *Error for a problem the loader found in one source, recovering the
// line and key path from the loader's message where it gives them.
func fileError(src source, err error) *Error {
	e := &Error{File: src.name, Err: err}
	msg := err.Error()
	if line := lineOf(msg); line > 0 && strings.HasPrefix(msg, "yaml:") {
		e.Line = line
		return e
	}
	if path := pathOf(msg); path != nil {
		e.Path = strings.Join(path, ".")
		if line, depth := findLine(src.raw, path); depth > 0 {
			e.Line = line
		}
	}
	return e
}
