package recipetest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Stages a hostile head is refused at, in pipeline order, or what happens to it.
const (
	StageMaterialise  = "materialise"   // recipe.Source.Materialise refuses the tree
	StageEnv          = "env"           // recipe.LoadEnv refuses .env.sample or abra.sh
	StageComposeFiles = "compose-files" // recipe.ComposeFiles refuses COMPOSE_FILE
	StageRender       = "render"        // render.Render refuses a file a key names
	StagePolicy       = "policy"        // rendered; the deploy policy refuses it (Rule)
	StageIgnored      = "ignored"       // rendered; docker drops the keys (Ignored) with a warning
)

// Case is one hostile recipe head of the corpus: a directory of files, and its case.json.
type Case struct {
	// Name is the directory's name.
	Name string `json:"-"`
	// Tries says what the head attempts.
	Tries string `json:"tries"`
	// Stage is where it is refused (StageMaterialise ... StagePolicy) or StageIgnored.
	Stage string `json:"stage"`
	// Refusal are texts the refusal's message holds (file and key, or tree entry).
	Refusal []string `json:"refusal,omitempty"`
	// TooLarge: the refusal is over a limit (recipe.ErrTooLarge).
	TooLarge bool `json:"tooLarge,omitempty"`
	// Rule is the deploy policy rule a StagePolicy head breaks.
	Rule string `json:"rule,omitempty"`
	// Ignored are the compose keys docker drops from a StageIgnored head.
	Ignored []string `json:"ignored,omitempty"`
	// Entries are raw tree entries added after the directory's files: symlinks, names
	// listed twice, claimed sizes, repeated files.
	Entries []Entry `json:"entries,omitempty"`

	dir string
}

// Corpus loads every case under dir (testdata/hostile), sorted by name.
func Corpus(t testing.TB, dir string) []Case {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []Case
	for _, de := range des {
		if !de.IsDir() {
			continue
		}
		c := Case{Name: de.Name(), dir: filepath.Join(dir, de.Name())}
		raw, err := os.ReadFile(filepath.Join(c.dir, "case.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s/case.json: %v", c.Name, err)
		}
		if !slices.Contains([]string{StageMaterialise, StageEnv, StageComposeFiles, StageRender, StagePolicy, StageIgnored}, c.Stage) {
			t.Fatalf("%s/case.json: unknown stage %q", c.Name, c.Stage)
		}
		out = append(out, c)
	}
	return out
}

// Commit makes the case's head: a repository whose one commit holds the directory's files
// (but case.json), then its raw entries.
func (c Case) Commit(t testing.TB) (string, string) {
	t.Helper()
	var entries []Entry
	err := filepath.WalkDir(c.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == filepath.Join(c.dir, "case.json") {
			return err
		}
		rel, err := filepath.Rel(c.dir, p)
		if err != nil {
			return err
		}
		content, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		entries = append(entries, Entry{Path: filepath.ToSlash(rel), Content: string(content)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return Commit(t, append(entries, c.Entries...))
}
