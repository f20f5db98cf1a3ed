package archtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// README's layout table names every package of the module, and every package has a doc.go
// saying what it owns and what it must not do: the docs stay true as packages come and go.
func TestLayoutNamesEveryPackage(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(readme), "## Layout")
	if i < 0 {
		t.Fatal("README has no Layout section")
	}
	section := string(readme)[i:]
	if j := strings.Index(section[1:], "\n## "); j >= 0 {
		section = section[:j+1]
	}
	// A row names packages in backquotes; a short name in a row of siblings
	// (`objcmd`, `runcmd`) stands for the sibling's directory.
	named := map[string]bool{}
	for _, row := range strings.Split(section, "\n") {
		if !strings.HasPrefix(row, "| `") {
			continue
		}
		cell := strings.SplitN(row, "|", 3)[1]
		var dir string
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cell, -1) {
			name := m[1]
			if strings.Contains(name, "/") {
				dir = filepath.Dir(name)
				named[name] = true
			} else if dir != "" {
				named[dir+"/"+name] = true
			} else {
				named[name] = true
			}
		}
	}
	for _, p := range packages(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.path, module), "/")
		if !named[rel] {
			t.Errorf("README's layout table does not name %s", rel)
		}
		if _, err := os.Stat(filepath.Join("../..", rel, "doc.go")); err != nil {
			t.Errorf("%s has no doc.go", rel)
		}
	}
}
