#!/usr/bin/env bash
# Config versions live here, and beat the compose file's own default (bonfire's
# APP_ENTRYPOINT_VERSION=v4 over ${...:-v3}).
export GREETING_CONF_VERSION=v2
export TUNE_CONF_VERSION=v1

# Functions are shell that swarmrun never runs.
sub_hello() {
  export INSIDE=never
  echo hello
}
