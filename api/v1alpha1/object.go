package v1alpha1

import (
	"fmt"
	"strings"
)

// Resource names of the kinds, as they appear in API paths and on the command line.
const (
	ResourceRecipes      = "recipes"
	ResourceTestRuns     = "testruns"
	ResourceRepositories = "repositories"
)

// Kinds returns the kinds swarmrun stores, in a stable order. It returns a new slice each time
// so that callers cannot change what the package considers supported.
func Kinds() []string { return []string{KindRecipe, KindTestRun, KindRepository} }

// New returns an empty object of kind, with its apiVersion and kind set, ready to be decoded
// into. kind is matched exactly, as in a YAML document's kind field.
func New(kind string) (Object, error) {
	switch kind {
	case KindRecipe:
		return &Recipe{TypeMeta: TypeMeta{APIVersion: APIVersion, Kind: KindRecipe}}, nil
	case KindTestRun:
		return &TestRun{TypeMeta: TypeMeta{APIVersion: APIVersion, Kind: KindTestRun}}, nil
	case KindRepository:
		return &Repository{TypeMeta: TypeMeta{APIVersion: APIVersion, Kind: KindRepository}}, nil
	}
	return nil, fmt.Errorf("unknown kind %q (want one of %s)", kind, strings.Join(Kinds(), ", "))
}

// KindFor maps what an operator types for a resource to its kind: the plural resource name
// (recipes, testruns, repositories), the singular (recipe, testrun, repository), the short
// forms rc, tr and repo, or the kind itself, in any case, the way kubectl accepts them.
func KindFor(resource string) (string, error) {
	switch strings.ToLower(resource) {
	case ResourceRecipes, "recipe", "rc":
		return KindRecipe, nil
	case ResourceTestRuns, "testrun", "tr":
		return KindTestRun, nil
	case ResourceRepositories, "repository", "repo":
		return KindRepository, nil
	}
	return "", fmt.Errorf("unknown resource type %q (want recipes, testruns or repositories)", resource)
}

// ResourceFor returns the plural resource name of kind, the inverse of KindFor.
func ResourceFor(kind string) (string, error) {
	switch kind {
	case KindRecipe:
		return ResourceRecipes, nil
	case KindTestRun:
		return ResourceTestRuns, nil
	case KindRepository:
		return ResourceRepositories, nil
	}
	return "", fmt.Errorf("unknown kind %q (want one of %s)", kind, strings.Join(Kinds(), ", "))
}

// DeepCopyObject returns a deep copy of obj, which must be a *Recipe, a *TestRun or a
// *Repository; any other Object (or nil) gives nil, since the package cannot know how to copy
// it.
func DeepCopyObject(obj Object) Object {
	switch o := obj.(type) {
	case *Recipe:
		if o == nil {
			return nil
		}
		return o.DeepCopy()
	case *TestRun:
		if o == nil {
			return nil
		}
		return o.DeepCopy()
	case *Repository:
		if o == nil {
			return nil
		}
		return o.DeepCopy()
	}
	return nil
}
