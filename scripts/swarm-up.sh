#!/usr/bin/env bash
# Bring up a single-node Docker Swarm on this machine, idempotently:
#   1. install Debian's docker.io when no Docker engine (dockerd) is installed;
#   2. start dockerd when it does not answer, logging to $SWARMRUN_DOCKERD_LOG, and wait
#      (bounded) for its socket;
#   3. `docker swarm init --advertise-addr 127.0.0.1` when the node is not in a swarm.
# Safe to run again and again, and when a daemon and a swarm already exist.
set -euo pipefail

log=${SWARMRUN_DOCKERD_LOG:-/var/log/swarmrun-dockerd.log}
wait_secs=${SWARMRUN_DOCKERD_WAIT:-60}

say() { printf 'swarm-up: %s\n' "$*" >&2; }

if ! command -v dockerd >/dev/null 2>&1; then
  say "no Docker engine installed: installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (log: $log)"
  mkdir -p "$(dirname "$log")"
  # setsid: the daemon must outlive this script and the make target that called it.
  setsid dockerd >>"$log" 2>&1 </dev/null &
  echo $! >/run/swarmrun-dockerd.pid
  for _ in $(seq 1 "$wait_secs"); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    say "dockerd did not answer within ${wait_secs}s; last lines of $log:"
    tail -n 20 "$log" >&2 || true
    exit 1
  fi
fi

state=$(docker info --format '{{.Swarm.LocalNodeState}}')
if [ "$state" != "active" ]; then
  say "node is not in a swarm ($state): docker swarm init"
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
fi

if [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" != "true" ]; then
  say "this node is in a swarm but is not a manager; swarmrun needs a manager node"
  exit 1
fi
say "swarm ready (engine $(docker version --format '{{.Server.Version}}'), API $(docker version --format '{{.Server.APIVersion}}'))"
