// Package spec reads swarmrun objects from YAML or JSON spec files, directories and standard
// input, and validates them.
//
// Reading is strict: an unknown field, a key written twice, a value of the wrong type, an
// unsupported apiVersion or kind are errors. Every problem of every document is collected into
// one *Error, each with its file, document, object, field path and, where the YAML gives it,
// its line, so that an operator fixes a file in one pass; nothing of a bad set is returned, so
// nothing of it can be stored. Objects that read cleanly are defaulted (the types' Default
// methods) and validated (Validate, which the API server also uses for objects that arrive as
// JSON, after CheckJSON has held their keys to the same rules: no key twice, fields spelt
// exactly). A status in a file is dropped: it belongs to the controller.
//
// spec must not talk to Docker or to the store: it only turns bytes into checked objects.
package spec
