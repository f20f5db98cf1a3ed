#!/usr/bin/env bash
# The swarmrun demo (run it with `make demo`, which first brings up the swarm, builds the probe
# images and the binary).
#
# Part 1, `swarmrun stack`: deploy a three-service stack, upgrade it to a compose that changes
# the images and drops a service, watch swarmrun prune it, then remove the stack.
#
# Part 2, the mission (demo/mission, see its doc.go): a recipe repository on a forge stand-in,
# swarmrun serve, a !testme comment delivered by webhook starting a TestRun of the pull
# request, the verdict posted back, a release promoted to the canonical and its warm stack, a
# second pull request found by the poller and based on the canonical, a legacy warm-keycloak
# stack collected by gc --adopt-warm, /metrics and the badge; then everything is removed
# (KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SWARMRUN:-bin/swarmrun}
stack=${DEMO_STACK:-swarmrun-demo}

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "part 1, swarmrun stack: deploy version 1 (app x2 with healthcheck, worker, sidekiq), wait for convergence"
run "$bin" stack deploy -c demo/compose.v1.yml "$stack"
run "$bin" stack ps "$stack"

step "upgrade to version 2: new images, sidekiq dropped from the compose"
run "$bin" stack deploy -c demo/compose.v2.yml "$stack"
run "$bin" stack ps "$stack"

step "re-apply version 2: nothing changes, nothing restarts"
run "$bin" stack deploy -c demo/compose.v2.yml "$stack"

step "remove the stack, its volumes too (--volumes; without it they are kept)"
run "$bin" stack rm --volumes "$stack"

step "part 2: the whole mission, through swarmrun serve (demo/mission)"
exec "${SWARMRUN_DEMO:-bin/swarmrun-demo}" --swarmrun "$bin" ${KEEP:+--keep}
