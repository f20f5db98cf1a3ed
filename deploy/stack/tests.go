package stack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/deploy/confine"
)

// MaxRecipeTestsSize bounds a recipe's shipped checks file: it is a list of checks, never
// more than a few kilobytes, and it comes from a head nobody vetted.
const MaxRecipeTestsSize = 256 << 10

// RecipeTests reads the checks a recipe ships (v1alpha1.RecipeTestsFile) from the deploy
// directory dir that Prepare materialised, inside it only: an absolute path, a .. or a
// symlink leading out, a file that is not regular or is over MaxRecipeTestsSize, is a
// refusal matching confine.ErrUnsafe. found is false when the recipe ships no such file.
func RecipeTests(dir string) (data []byte, found bool, err error) {
	d, err := confine.OpenDir(dir)
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", v1alpha1.RecipeTestsFile, err)
	}
	defer d.Close()
	b, err := d.ReadFile(v1alpha1.RecipeTestsFile, MaxRecipeTestsSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// RecipeTestsAt materialises commit of src into dir, which it empties first and removes
// after, and reads its shipped checks (RecipeTests): the checks of a commit that is not
// prepared yet, such as the head's while the base deploys.
func (p *Pipeline) RecipeTestsAt(ctx context.Context, src *Source, commit, dir string) ([]byte, bool, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, false, fmt.Errorf("read %s at %s: %w", v1alpha1.RecipeTestsFile, commit, err)
	}
	defer os.RemoveAll(dir)
	if err := src.Materialise(ctx, commit, dir); err != nil {
		return nil, false, fmt.Errorf("read %s at %s: %w", v1alpha1.RecipeTestsFile, commit, err)
	}
	return RecipeTests(dir)
}
