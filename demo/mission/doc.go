// Command mission is the second part of `make demo`: the whole mission of swarmrun on the real
// swarm, in order, each command printed before it runs.
//
//  1. A forge (forge/forgetest: a Forgejo API on a loopback port, since no forge can be
//     installed here) holds the recipe repository recipes/demo with pull request #1; the
//     recipe itself is a git repository built in a temporary directory from demo/recipe/.
//  2. swarmrun serve runs the controllers, the API, the webhook, the status page and /metrics;
//     the operator applies the demo Recipe (enrolled warm), the keycloak Recipe and the
//     Repository (objects.yaml).
//  3. mallory, who may not, and then alice, who may, comment !testme on pull request #1; the
//     forge's signed webhook deliveries reach serve, and alice's starts TestRun demo-pr1 at the
//     pull request's head: base, head, prune, verify, tiers, level. The commit statuses and the
//     summary comment it posted back are shown from the forge.
//  4. The pull request is merged and released as 0.2.0+2; of the runs CI applies
//     (release.yaml), the tag's is green and promoted to the canonical, and the Recipe
//     controller deploys warm-demo. Data is written into it, and the operator applies the
//     Repository again with its runs based on the warm stack.
//  5. alice asks on pull request #2, found by the poller this time; the run starts from a copy
//     of warm-demo's volumes, the canonical version with its data.
//  6. A legacy warm-keycloak stack is planted with docker stack deploy (keycloak.yml), found by
//     swarmrun gc --dry-run and collected with --adopt-warm.
//  7. /metrics and the badge are read from serve; then everything the demo made is removed
//     (--keep leaves it all), and the demo checks that nothing of it is left on the swarm.
//
// It drives swarmrun only through its binary, as an operator would, and reads the forge's side
// from the forge. It starts serve and stops it by the PID it started; it removes only the
// stacks, volumes and files it made.
package main
