// Package archtest keeps swarmrun's architecture and its reference true, with tests over the
// source of every package of the module:
//
//   - imports: the Docker SDK (github.com/docker/..., github.com/moby/...) only under
//     deploy/; zap only under cmd/; reconcile takes the deploy tree through deploy/stack
//     alone; warm does not import reconcile; no package outside cmd/ builds a controller
//     (controller.New); and the rules do fail on a violation (an SDK import in reconcile);
//   - every condition type and reason that api/v1alpha1 declares is set somewhere;
//   - README's layout table names every package, and every package has a doc.go;
//   - docs/reference.md documents every JSON field of the objects' types, and every condition
//     type and reason.
//
// It has no code of its own: the rules are tests.
package archtest
