// Package render turns compose files into the swarm objects of one stack, exactly as
// `docker stack deploy` would create them: it uses docker/cli's compose loader and converter
// (cli/compose/loader, cli/compose/convert), the same calls in the same order.
//
// A render is a pure function of its inputs: an ordered list of compose files (see
// ComposeFiles for COMPOSE_FILE), inline overlay fragments merged after them, and an
// explicit environment for interpolation. The process environment never leaks into a render
// unless the caller passes it. Stack.Digest identifies the result; ServiceDigest identifies
// one service spec, for deciding that a service is unchanged.
//
// Options.Adjust is the one hook between loading and converting: deploy/stack applies
// abra's deploy-time conventions and image overrides through it, so the objects and the
// printed configuration come from one configuration. Stack.ComposeYAML prints that
// configuration exactly as `docker stack config` does (golden files printed by docker 28.2.2
// pin it), and Stack.SecretSources says how each external secret's name is written, for the
// hints of a generated value. A file without a version key takes the version of the files
// that have one, where docker would refuse the mix.
//
// render reads files but talks to no engine. The converter wants an engine only to look up
// the IDs of referenced secrets and configs; render answers from the stack's own
// declarations and leaves the IDs empty for the apply step to fill in. External
// networks, secrets and configs are listed for the apply step to check.
//
// Bad input gives an *Error that names the file ("overlay[i]" for overlays) and, where the
// loader's message or the document allows, the key path and line. Secret data never appears
// in errors, and Stack prints and marshals without it.
//
// A render is confined to Options.Dir, the recipe checkout: every file it reads (the compose
// files, env_file entries, secret and config files) is opened through an os.Root of Dir, so
// an absolute path, a ".." that climbs out, or a symlink (or chain of them) that leads out
// is refused with an *Error that matches confine.ErrUnsafe (the same value as
// recipe.ErrUnsafe), naming the file and the key, and nothing outside is read. docker's
// converter would read secret and config files from the host path the loader resolved;
// render reads them itself and hands the converter the content, and it reads env files
// itself too. Options.HostPaths lifts the confinement for an operator's own compose files
// (swarmrun stack deploy), never for a recipe.
//
// render must not call an engine, log, or read anything but the files its options name and
// the files those reference (env_file, secret and config files), and, unless HostPaths is
// set, nothing outside Dir. (docker's loader itself may warn through logrus's standard
// logger, for example about a deprecated external.name.)
package render
