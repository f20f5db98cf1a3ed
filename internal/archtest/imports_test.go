package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/swarmrun/swarmrun"

// pkg is one package of the module as far as the rules need it: its import path, what its
// production files import, and whether they call controller.New.
type pkg struct {
	path        string
	imports     []string
	controllers []string // positions of controller.New calls
}

// packages parses the production files of every package of the module.
func packages(t *testing.T) []pkg {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from the test's directory: %v", err)
	}
	byDir := map[string]*pkg{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		rel, _ := filepath.Rel(root, dir)
		p := byDir[dir]
		if p == nil {
			p = &pkg{path: strings.TrimSuffix(module+"/"+filepath.ToSlash(rel), "/.")}
			byDir[dir] = p
		}
		local := map[string]string{} // import name → path
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			p.imports = append(p.imports, ip)
			name := ip[strings.LastIndex(ip, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			local[name] = ip
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "New" {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && local[id.Name] == module+"/controller" {
				p.controllers = append(p.controllers, fset.Position(call.Pos()).String())
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []pkg
	for _, p := range byDir {
		slices.Sort(p.imports)
		p.imports = slices.Compact(p.imports)
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b pkg) int { return strings.Compare(a.path, b.path) })
	return out
}

// under reports whether path is the package dir of the module or below it.
func under(path, dir string) bool {
	d := module + "/" + dir
	return path == d || strings.HasPrefix(path, d+"/")
}

// violations are the rules each package breaks.
func violations(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		for _, imp := range p.imports {
			sdk := strings.HasPrefix(imp, "github.com/docker/") || strings.HasPrefix(imp, "github.com/moby/")
			if sdk && !under(p.path, "deploy") {
				out = append(out, p.path+" imports the Docker SDK ("+imp+"): only deploy/ may")
			}
			zap := strings.HasPrefix(imp, "go.uber.org/zap") || imp == "github.com/go-logr/zapr"
			if zap && !under(p.path, "cmd") {
				out = append(out, p.path+" imports zap ("+imp+"): only cmd/ may")
			}
			if under(p.path, "reconcile") && under(imp, "deploy") && imp != module+"/deploy/stack" {
				out = append(out, p.path+" imports "+imp+": reconcile takes the deploy tree through deploy/stack alone")
			}
			if (under(p.path, "reconcile") || under(p.path, "warm")) && strings.HasPrefix(imp, "github.com/prometheus/") {
				out = append(out, p.path+" imports "+imp+": reconcile and warm report to an Observer they define, never to Prometheus")
			}
			if under(p.path, "warm") && under(imp, "reconcile") {
				out = append(out, p.path+" imports "+imp+": warm must not import reconcile")
			}
		}
		if !under(p.path, "cmd") {
			for _, at := range p.controllers {
				out = append(out, p.path+" builds a controller at "+at+": only cmd/ wires controllers")
			}
		}
	}
	return out
}

func TestArchitecture(t *testing.T) {
	pkgs := packages(t)
	if len(pkgs) < 20 {
		t.Fatalf("found %d packages: the walk missed the module", len(pkgs))
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// The rules fail the build on what they forbid: the module as it is, plus a Docker SDK
// import and a controller built in reconcile, breaks them.
func TestArchitectureRulesBite(t *testing.T) {
	pkgs := packages(t)
	i := slices.IndexFunc(pkgs, func(p pkg) bool { return p.path == module+"/reconcile" })
	if i < 0 {
		t.Fatal("no reconcile package")
	}
	pkgs[i].imports = append(pkgs[i].imports, "github.com/docker/docker/client", "github.com/prometheus/client_golang/prometheus")
	pkgs[i].controllers = append(pkgs[i].controllers, "reconcile/testrun.go:1:1")
	got := strings.Join(violations(pkgs), "\n")
	for _, want := range []string{
		"reconcile imports the Docker SDK (github.com/docker/docker/client)",
		"reconcile imports github.com/prometheus/client_golang/prometheus: reconcile and warm report to an Observer",
		"reconcile builds a controller",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("violations do not say %q:\n%s", want, got)
		}
	}
}
