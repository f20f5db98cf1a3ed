// Package confine opens the files of an untrusted directory, a recipe checkout, without ever
// leaving it: names are relative, resolved on disk through an os.Root, so that neither ".."
// nor a symlink (or a chain of them, each harmless to look at) reaches a file outside.
//
// A refusal is an error that satisfies errors.Is(err, ErrUnsafe); one about size also
// satisfies errors.Is(err, ErrTooLarge). Both are final: the same input is refused again, so
// a caller must not retry it. deploy/recipe (env files, compose file lookup, materialising)
// and deploy/render (compose files, env_file, secret and config files) share this one
// sentinel, so that one errors.Is tells "the recipe tried to reach outside" from anything
// else.
//
// confine must not follow a path outside the directory it opened, write anything, or quote
// the content of a file it refused in an error.
package confine
