#!/usr/bin/env bash
# The swarmrun demo (run it with `make demo`, which first brings up the swarm, builds the probe
# images and the binary): deploy a three-service stack, upgrade it to a compose that changes
# the images and drops a service, watch swarmrun prune it, then remove the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SWARMRUN:-bin/swarmrun}
stack=${DEMO_STACK:-swarmrun-demo}

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "deploy version 1 (app x2 with healthcheck, worker, sidekiq) and wait for convergence"
run "$bin" stack deploy -c demo/compose.v1.yml "$stack"
run "$bin" stack ps "$stack"

step "upgrade to version 2: new images, sidekiq dropped from the compose"
run "$bin" stack deploy -c demo/compose.v2.yml "$stack"
run "$bin" stack ps "$stack"

step "re-apply version 2: nothing changes, nothing restarts"
run "$bin" stack deploy -c demo/compose.v2.yml "$stack"

step "remove the stack (volumes kept unless --volumes)"
run "$bin" stack rm --volumes "$stack"
