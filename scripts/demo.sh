#!/usr/bin/env bash
# The swarmrun demo (run it with `make demo`, which first brings up the swarm, builds the probe
# images and the binary).
#
# Part 1, `swarmrun stack`: deploy a three-service stack, upgrade it to a compose that changes
# the images and drops a service, watch swarmrun prune it, then remove the stack.
#
# Part 2, `swarmrun run`: build a small recipe repository (release 0.1.0+1, and a main branch
# that upgrades the app and drops a service), then test the head: swarmrun deploys the upgrade
# base, upgrades it, prunes, verifies, runs the checks, records a level and tears down.
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

step "remove the stack, its volumes too (--volumes; without it they are kept)"
run "$bin" stack rm --volumes "$stack"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$work/recipe
step "build a recipe repository: tag 0.1.0+1, then main with 0.2.0+2 (new image, sidekiq dropped)"
git init -q -b main "$repo"
gitc() { git -C "$repo" -c user.name=demo -c user.email=demo@swarmrun.invalid "$@"; }
cp demo/recipe/0.1.0/compose.yml demo/recipe/0.1.0/.env.sample "$repo"/
gitc add -A && gitc commit -qm "release 0.1.0+1" && gitc tag 0.1.0+1
cp demo/recipe/0.2.0/compose.yml demo/recipe/0.2.0/.env.sample "$repo"/
gitc add -A && gitc commit -qm "app 2, drop sidekiq"
git -C "$repo" log --oneline --decorate
sed "s#@REPO@#$repo#" demo/recipe/run.yaml.in >"$work/run.yaml"

step "test the head: base 0.1.0+1 -> head main, prune, verify, checks, level"
set +e
run "$bin" run --data-dir "$work/state" -f "$work/run.yaml"
code=$?
set -e
step "results ($work/state/runs/demo-head/)"
cat "$work/state/runs/demo-head/summary.md" 2>/dev/null || true
exit $code
