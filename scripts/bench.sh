#!/usr/bin/env bash
# `make bench`: swarmrun stack deploy vs docker stack deploy on the local swarm, side by side;
# then a cold TestRun vs a warm one (spec.base.from: warm) of the same head, side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./deploy/internal/stackbench -swarmrun bin/swarmrun "$@"
echo
go run ./reconcile/internal/runbench -swarmrun bin/swarmrun
