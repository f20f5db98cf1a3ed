package recipe

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"strconv"
	"strings"

	"github.com/swarmrun/swarmrun/deploy/confine"
)

// Files of a recipe that carry its environment.
const (
	EnvSampleFile = ".env.sample"
	AbraShFile    = "abra.sh"
)

// Var is one variable definition of a recipe's env files.
type Var struct {
	Name  string
	Value string
	// Expand is true when the value may reference other variables ($NAME, ${NAME}), as
	// unquoted and double-quoted dotenv values do. Expansion waits for the final env, so
	// that a reference to DOMAIN sees the domain of the deploy, not the sample's.
	Expand bool
	// Hints are the line's trailing "# key=value" modifiers, such as length=32.
	Hints map[string]string
	// File and Line say where the definition is (File is set by LoadEnv), for errors.
	File string
	Line int
}

// where names a definition's place for errors: "file:line: NAME", as much as is known.
func (v Var) where() string {
	switch {
	case v.File != "" && v.Line > 0:
		return fmt.Sprintf("%s:%d: %s", v.File, v.Line, v.Name)
	case v.Line > 0:
		return fmt.Sprintf("line %d: %s", v.Line, v.Name)
	}
	return v.Name
}

// Env is a recipe's own environment: the definitions of .env.sample followed by those of
// abra.sh, in file order. Later definitions of a name win.
type Env struct {
	Vars []Var
}

// LoadEnv reads dir/.env.sample and the export lines of dir/abra.sh; either may be missing.
// abra.sh is read as text and never executed. Both are opened inside dir only: a file that is
// a symlink leading outside dir is refused (ErrUnsafe), as is one over confine.MaxFileSize.
func LoadEnv(dir string) (Env, error) {
	root, err := confine.OpenDir(dir)
	if err != nil {
		return Env{}, fmt.Errorf("load env: %w", err)
	}
	defer root.Close()
	var env Env
	for _, f := range []struct {
		name  string
		parse func(io.Reader) (Env, error)
	}{{EnvSampleFile, ParseDotenv}, {AbraShFile, ParseAbraSh}} {
		raw, err := root.ReadFile(f.name, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Env{}, fmt.Errorf("load env: %s: %w", f.name, err)
		}
		e, err := f.parse(bytes.NewReader(raw))
		if err != nil {
			return Env{}, fmt.Errorf("load env: %s: %w", f.name, err)
		}
		for _, v := range e.Vars {
			v.File = f.name
			env.Vars = append(env.Vars, v)
		}
	}
	return env, nil
}

// ParseDotenv parses a dotenv file: "KEY=value" or "export KEY=value" lines, blank lines
// and "#" comments. Values may be single-quoted (literal), double-quoted (with \n, \t, \\,
// \" and \$ escapes, and variable references) or unquoted (trimmed, variable references,
// ending at " #"). A trailing comment's "key=value" words are kept as hints.
func ParseDotenv(r io.Reader) (Env, error) {
	var env Env
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := parseAssignment(strings.TrimPrefix(line, "export "))
		if err != nil {
			return Env{}, fmt.Errorf("line %d: %w", n, err)
		}
		v.Line = n
		env.Vars = append(env.Vars, v)
	}
	if err := sc.Err(); err != nil {
		return Env{}, err
	}
	return env, nil
}

// ParseAbraSh reads the "export NAME=value" lines of an abra.sh at the top level (not
// indented, so not inside a function). Everything else is shell that swarmrun never runs.
// Values are taken literally: a value that needs a shell to compute is skipped.
func ParseAbraSh(r io.Reader) (Env, error) {
	var env Env
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRightFunc(sc.Text(), isSpace)
		if !strings.HasPrefix(line, "export ") {
			continue
		}
		v, err := parseAssignment(strings.TrimSpace(strings.TrimPrefix(line, "export ")))
		if err != nil || strings.ContainsAny(v.Value, "`") || strings.Contains(v.Value, "$(") {
			continue // "export A B", "export -f fn", command substitutions
		}
		v.Expand, v.Line = false, n
		env.Vars = append(env.Vars, v)
	}
	if err := sc.Err(); err != nil {
		return Env{}, err
	}
	return env, nil
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\r' }

func parseAssignment(line string) (Var, error) {
	name, rest, ok := strings.Cut(line, "=")
	name = strings.TrimSpace(name)
	if !ok {
		return Var{}, fmt.Errorf("%q is not NAME=value", line)
	}
	if !validName(name) {
		return Var{}, fmt.Errorf("invalid variable name %q", name)
	}
	raw := rest
	rest = strings.TrimLeftFunc(rest, isSpace)
	v := Var{Name: name}
	var comment string
	switch {
	case strings.HasPrefix(rest, "'"):
		end := strings.IndexByte(rest[1:], '\'')
		if end < 0 {
			return Var{}, fmt.Errorf("%s: unterminated single quote", name)
		}
		v.Value, comment = rest[1:1+end], rest[2+end:]
	case strings.HasPrefix(rest, `"`):
		value, after, err := unquoteDouble(rest[1:])
		if err != nil {
			return Var{}, fmt.Errorf("%s: %w", name, err)
		}
		v.Value, comment, v.Expand = value, after, true
	default:
		v.Value, v.Expand = raw, true
		if i := commentStart(raw); i >= 0 {
			v.Value, comment = raw[:i], raw[i:]
		}
		v.Value = strings.TrimFunc(v.Value, isSpace)
	}
	comment = strings.TrimSpace(comment)
	if comment != "" && !strings.HasPrefix(comment, "#") {
		return Var{}, fmt.Errorf("%s: unexpected %q after the value", name, comment)
	}
	v.Hints = parseHints(strings.TrimPrefix(comment, "#"))
	return v, nil
}

// commentStart finds an inline comment in an unquoted value: a # after whitespace, as in
// the shell ("A=#fff" is a colour, "A= #note" is empty).
func commentStart(s string) int {
	for i := 1; i < len(s); i++ {
		if s[i] == '#' && (s[i-1] == ' ' || s[i-1] == '\t') {
			return i
		}
	}
	return -1
}

// unquoteDouble reads a double-quoted value up to its closing quote, keeping "\$" as a
// marker that expansion turns into a literal "$".
func unquoteDouble(s string) (value, rest string, err error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 == len(s) {
				return "", "", errors.New("unterminated double quote")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '$':
				b.WriteString(`\$`)
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("unterminated double quote")
}

func parseHints(comment string) map[string]string {
	var hints map[string]string
	for _, word := range strings.Fields(comment) {
		k, v, ok := strings.Cut(word, "=")
		if !ok || k == "" {
			continue
		}
		if hints == nil {
			hints = map[string]string{}
		}
		hints[k] = v
	}
	return hints
}

func validName(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// Lookup returns the last definition of name.
func (e Env) Lookup(name string) (Var, bool) {
	for i := len(e.Vars) - 1; i >= 0; i-- {
		if e.Vars[i].Name == name {
			return e.Vars[i], true
		}
	}
	return Var{}, false
}

// Length returns the "# length=N" hint of name, if it has a valid one.
func (e Env) Length(name string) (int, bool) {
	v, ok := e.Lookup(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v.Hints["length"])
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// Resolve computes the env of one deploy: the recipe's own definitions, then each layer in
// order (the Recipe's env, the TestRun's env, then STACK_NAME and DOMAIN from the
// controller), later layers winning. Layer values are literal. The recipe's own values are
// expanded in file order against what is defined before them and against the layers, so a
// sample's "URL=https://${DOMAIN}" follows the deploy's domain and bonfire's line-by-line
// COMPOSE_FILE="$COMPOSE_FILE:compose.postgres.yml" appends to the line above it; unknown
// names expand to "". A "${NAME?message}" or "${NAME:?message}" whose NAME is unset (or,
// with ":", empty) is an error naming the file, line, variable and message, as compose
// interpolation words it.
//
// abra lets abra.sh exports win even over the operator's app .env (abra's
// MergeAbraShEnv, not verified against its source); here abra.sh wins over .env.sample only,
// and the operator's layers win over both: a run's env is explicit, per-run intent (for
// example a config version under test).
func (e Env) Resolve(layers ...map[string]string) (map[string]string, error) {
	over := Merge(layers...)
	out := map[string]string{}
	lookup := func(name string) (string, bool) {
		if v, ok := over[name]; ok {
			return v, true
		}
		v, ok := out[name]
		return v, ok
	}
	for _, v := range e.Vars {
		if _, ok := over[v.Name]; ok {
			continue
		}
		value := v.Value
		if v.Expand {
			var err error
			if value, err = expand(value, lookup); err != nil {
				return nil, fmt.Errorf("%s: %w", v.where(), err)
			}
		}
		out[v.Name] = value
	}
	maps.Copy(out, over)
	return out, nil
}

// Merge layers maps left to right: later layers win. Nil layers are skipped.
func Merge(layers ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, l := range layers {
		maps.Copy(out, l)
	}
	return out
}

// expand replaces $NAME, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message} and
// ${NAME?message} using lookup, and "\$" with a literal "$".
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '$':
			b.WriteByte('$')
			i++
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String(), nil
			}
			v, err := expandBraced(s[i+2:i+2+end], lookup)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i += 2 + end
		case s[i] == '$' && i+1 < len(s) && (s[i+1] == '_' || isLetter(s[i+1])):
			j := i + 1
			for j < len(s) && (s[j] == '_' || isLetter(s[j]) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			v, _ := lookup(s[i+1 : j])
			b.WriteString(v)
			i = j - 1
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}

func expandBraced(expr string, lookup func(string) (string, bool)) (string, error) {
	// The operator is the first of ":-", "-", ":?", "?" after the name.
	end := 0
	for end < len(expr) && (expr[end] == '_' || isLetter(expr[end]) || end > 0 && expr[end] >= '0' && expr[end] <= '9') {
		end++
	}
	name, op := expr[:end], expr[end:]
	v, set := lookup(name)
	switch {
	case op == "" || name == "":
		v, _ := lookup(expr)
		return v, nil
	case strings.HasPrefix(op, ":-"), strings.HasPrefix(op, "-"):
		// "-" is treated like ":-": the env does not tell an unset name from an empty one.
		if v != "" {
			return v, nil
		}
		return strings.TrimPrefix(strings.TrimPrefix(op, ":"), "-"), nil
	case strings.HasPrefix(op, ":?"):
		if v == "" {
			return "", fmt.Errorf("required variable %s is missing a value: %s", name, op[2:])
		}
		return v, nil
	case strings.HasPrefix(op, "?"):
		if !set {
			return "", fmt.Errorf("required variable %s is missing a value: %s", name, op[1:])
		}
		return v, nil
	}
	v, _ = lookup(expr)
	return v, nil
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
