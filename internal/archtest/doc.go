// Package archtest keeps swarmrun's architecture as the design says it is, with a test over
// the source of every package of the module (production files only):
//
//   - the Docker SDK (github.com/docker/..., github.com/moby/...) is imported only under
//     deploy/; zap only under cmd/;
//   - reconcile imports deploy/stack alone from the deploy tree;
//   - warm does not import reconcile;
//   - reconcile and warm do not import Prometheus (they report to an Observer they define);
//   - no package outside cmd/ builds a controller (controller.New).
//
// It has no code of its own: the rules are a test, and a second test shows that the rules
// do fail on a violation (an SDK import in reconcile).
package archtest
