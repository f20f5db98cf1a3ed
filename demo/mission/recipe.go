package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
)

// recipeRepo is the demo recipe's git repository, built from the trees under demo/recipe/.
type recipeRepo struct {
	sh   *shell
	dir  string // the repository
	tree string // demo/recipe
}

// git runs git in the repository as the demo's committer.
func (r *recipeRepo) git(ctx context.Context, args ...string) (string, error) {
	out, err := r.sh.quiet(ctx, "git", append([]string{"-C", r.dir, "-c", "user.name=demo", "-c", "user.email=demo@swarmrun.invalid",
		"-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
	return strings.TrimSpace(out), err
}

// init creates the repository with main at release 0.1.0+1, annotated as abra tags releases.
func (r *recipeRepo) init(ctx context.Context) error {
	if _, err := r.sh.quiet(ctx, "git", "init", "-q", "-b", "main", r.dir); err != nil {
		return err
	}
	if _, err := r.commit(ctx, "0.1.0", "release 0.1.0+1"); err != nil {
		return err
	}
	return r.tag(ctx, "0.1.0+1")
}

// commit replaces the tree with demo/recipe/<version>'s files and commits them on the current
// branch, returning the commit.
func (r *recipeRepo) commit(ctx context.Context, version, message string) (string, error) {
	src := filepath.Join(r.tree, version)
	entries, err := os.ReadDir(src)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(r.dir, e.Name()), data, 0o644); err != nil {
			return "", err
		}
	}
	if _, err := r.git(ctx, "add", "-A"); err != nil {
		return "", err
	}
	if _, err := r.git(ctx, "commit", "-q", "-m", message); err != nil {
		return "", err
	}
	return r.git(ctx, "rev-parse", "HEAD")
}

// branch makes branch name at from and checks it out.
func (r *recipeRepo) branch(ctx context.Context, name, from string) error {
	_, err := r.git(ctx, "checkout", "-q", "-b", name, from)
	return err
}

// merge fast-forwards main to branch, as merging a pull request that is up to date does.
func (r *recipeRepo) merge(ctx context.Context, branch string) error {
	if _, err := r.git(ctx, "checkout", "-q", "main"); err != nil {
		return err
	}
	_, err := r.git(ctx, "merge", "-q", "--ff-only", branch)
	return err
}

// tag tags the current commit as a release.
func (r *recipeRepo) tag(ctx context.Context, version string) error {
	_, err := r.git(ctx, "tag", "-a", "-m", "release "+version, version)
	return err
}

// log prints the history of every branch, for the reader.
func (r *recipeRepo) log(ctx context.Context) error {
	out, err := r.git(ctx, "log", "--oneline", "--decorate", "--all", "--graph")
	if err != nil {
		return err
	}
	for line := range strings.SplitSeq(out, "\n") {
		r.sh.say("%s", line)
	}
	return nil
}

// short is a commit's first 8 characters, as swarmrun prints them.
func short(commit string) string {
	if len(commit) > 8 {
		return commit[:8]
	}
	return commit
}
