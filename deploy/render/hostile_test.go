package render_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/deploy/policy"
	"github.com/swarmrun/swarmrun/deploy/recipe"
	"github.com/swarmrun/swarmrun/deploy/recipe/recipetest"
	"github.com/swarmrun/swarmrun/deploy/render"
)

// corpusDir is the hostile corpus (testdata/hostile at the repository's top).
const corpusDir = "../../testdata/hostile"

// maxRefusal bounds how long refusing a hostile head may take: the pipeline must say no at
// once, not after materialising or reading what it refuses.
const maxRefusal = 3 * time.Second

// TestHostileCorpus runs every head of testdata/hostile through what a deploy does with a
// head before it applies anything (Materialise, LoadEnv, ComposeFiles, Render, and the deploy
// policy), into a deploy directory three levels below a data dir planted with canaries. Each
// head is refused at its stage, with a message naming the file and the key or tree entry,
// quickly, and nothing around the checkout is written, nor read into any output.
func TestHostileCorpus(t *testing.T) {
	cases := recipetest.Corpus(t, corpusDir)
	if len(cases) < 12 {
		t.Fatalf("the corpus has %d heads, want at least 12", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			l := recipetest.NewLayout(t)
			repo, commit := c.Commit(t)
			snap := recipetest.Snap(t, l.Top, l.Checkout)
			start := time.Now()
			st, stage, err := runHead(t.Context(), repo, commit, l.Checkout)
			took := time.Since(start)
			t.Logf("%s: %v (%s)", stage, err, took.Round(time.Millisecond))

			switch c.Stage {
			case recipetest.StagePolicy:
				if err != nil {
					t.Fatalf("the head was refused at %s (%v); it must render, and the deploy policy refuse it", stage, err)
				}
				err = policy.Check(st, policy.Policy{}, policy.Deploy{Role: policy.RoleHead})
				var pe *policy.Error
				if !errors.As(err, &pe) || !slices.Contains(pe.Rules(), c.Rule) {
					t.Errorf("deploy policy: %v, want rule %s", err, c.Rule)
				}
			case recipetest.StageIgnored:
				if err != nil {
					t.Fatalf("the head was refused at %s: %v", stage, err)
				}
				want := "ignoring unsupported options: " + strings.Join(c.Ignored, ", ")
				if !slices.Contains(st.Warnings, want) {
					t.Errorf("warnings %q, want %q", st.Warnings, want)
				}
				if err := policy.Check(st, policy.Policy{}, policy.Deploy{Role: policy.RoleHead}); err != nil {
					t.Errorf("what docker ignores reached the spec: %v", err)
				}
			default:
				if stage != c.Stage || !errors.Is(err, recipe.ErrUnsafe) || errors.Is(err, recipe.ErrTooLarge) != c.TooLarge {
					t.Fatalf("refused at %s with %v; want an ErrUnsafe refusal (too large %v) at %s", stage, err, c.TooLarge, c.Stage)
				}
				for _, want := range c.Refusal {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("refusal %q\nlacks %q", err, want)
					}
				}
				if stage == recipetest.StageRender {
					var re *render.Error
					if !errors.As(err, &re) || re.File == "" || re.Path == "" {
						t.Errorf("render refusal %#v does not name the file and key", err)
					}
				}
				if took > maxRefusal {
					t.Errorf("refusing took %s", took)
				}
			}
			snap.Unchanged(t)
			if err != nil {
				recipetest.NoCanary(t, "the refusal", []byte(err.Error()))
			}
			recipetest.NoCanary(t, "the render", renderedData(st)...)
			recipetest.NoCanary(t, "the checkout", checkoutFiles(t, l.Checkout)...)
		})
	}
}

// runHead does with a head what a deploy does before it applies, and says at which stage it
// stopped.
func runHead(ctx context.Context, repo, commit, dir string) (*render.Stack, string, error) {
	src, err := recipe.NewCache(recipe.Options{}).Open(ctx, repo)
	if err != nil {
		return nil, "open", err
	}
	if err := src.Materialise(ctx, commit, dir); err != nil {
		return nil, recipetest.StageMaterialise, err
	}
	env, err := recipe.LoadEnv(dir)
	if err != nil {
		return nil, recipetest.StageEnv, err
	}
	vars, err := env.Resolve(map[string]string{"STACK_NAME": "hostile", "DOMAIN": "hostile.example.org"})
	if err != nil {
		return nil, recipetest.StageEnv, err
	}
	files, err := recipe.ComposeFiles(vars, dir)
	if err != nil {
		return nil, recipetest.StageComposeFiles, err
	}
	st, err := render.Render(ctx, render.Options{Stack: "hostile", Dir: dir, Files: files, Env: vars})
	if err != nil {
		return nil, recipetest.StageRender, err
	}
	return st, recipetest.StagePolicy, nil
}

// renderedData is everything of a render that could carry a file's content.
func renderedData(st *render.Stack) [][]byte {
	if st == nil {
		return nil
	}
	var out [][]byte
	for _, s := range st.Secrets {
		out = append(out, s.Data)
	}
	for _, c := range st.Configs {
		out = append(out, c.Data)
	}
	for _, s := range st.Services {
		if cs := s.TaskTemplate.ContainerSpec; cs != nil {
			out = append(out, []byte(strings.Join(cs.Env, "\n")))
		}
	}
	return out
}

// checkoutFiles are the regular files of the checkout, symlinks not followed.
func checkoutFiles(t *testing.T, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		out = append(out, b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
