// Package recipetest builds recipe repositories for tests, including trees that git itself
// would never write and a hostile recipe head may still push: a name listed twice, a file
// under a name that is also a symlink, symlink chains, blobs whose header claims a size the
// test never stores, and trees with many entries. It also loads the hostile corpus in
// testdata/hostile, each case a directory of files plus a case.json of such raw entries.
//
// It is for tests only, and must not be imported by anything else.
package recipetest
