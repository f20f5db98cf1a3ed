#!/usr/bin/env bash
# Build the local test images swarmrun-probe:1 and swarmrun-probe:2 (FROM scratch, static
# binary at /probe, see testdata/probe). No registry is reachable on the test machines, so
# every test and the demo use only these two images; they differ only in main.version.
#
# Idempotent: an image is rebuilt only when it is missing, when FORCE=1, or when its
# swarmrun.dev/probe-source label differs from the digest of the current probe sources.
# Prints one line per image ("built" or "present"); build output only on failure.
# Removes nothing but the untagged previous build of its own images after a rebuild.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=$root/testdata/probe
repo=swarmrun-probe
versions=(1 2)
# Part of the source digest, so a change of build recipe also forces a rebuild.
ldflags_base="-s -w"
label_source=swarmrun.dev/probe-source
label_version=swarmrun.dev/probe-version

# The classic builder needs no plugin; BuildKit through this CLI needs buildx, which these
# machines may lack (Debian docker.io).
if ! docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=0
fi

# source_digest hashes what ends up in the image: the non-test Go files, the Dockerfile and
# the build flags. Tests are excluded so that editing them rebuilds nothing.
source_digest() {
  (
    cd "$src"
    LC_ALL=C ls -- *.go Dockerfile | grep -v '_test\.go$' | LC_ALL=C sort | xargs sha256sum
    printf 'ldflags=%s\n' "$ldflags_base"
  ) | sha256sum | cut -d' ' -f1
}

# image_label prints a label of a local image, or nothing when the image is absent.
image_label() {
  docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

# image_id prints the ID of a local image, or nothing when it is absent.
image_id() {
  docker image inspect -f '{{ .Id }}' "$1" 2>/dev/null || true
}

# remove_if_orphaned deletes a previous build of ours once a rebuild has taken its tag, so
# repeated rebuilds do not pile up <none> images. It touches only an image that carries our
# label and has no tag left, and never forces (a container may still use it).
remove_if_orphaned() {
  local id=$1
  [[ -n $id ]] || return 0
  [[ -n $(image_label "$id" "$label_source") ]] || return 0
  [[ $(docker image inspect -f '{{ len .RepoTags }}' "$id" 2>/dev/null || echo 1) == 0 ]] || return 0
  docker image rm "$id" >/dev/null 2>&1 || true
}

# build_one compiles the binary for version $1 into its own context dir and builds the image.
build_one() {
  local v=$1 digest=$2 ctx=$tmp/$1 log=$tmp/$1.log
  mkdir -p "$ctx"
  if ! (cd "$root" && CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "$ldflags_base -X main.version=$v" -o "$ctx/probe" ./testdata/probe) >"$log" 2>&1; then
    cat "$log" >&2
    echo "build-images: go build of version $v failed" >&2
    return 1
  fi
  if ! docker build -f "$src/Dockerfile" -t "$repo:$v" \
      --label "$label_source=$digest" --label "$label_version=$v" "$ctx" >"$log" 2>&1; then
    cat "$log" >&2
    echo "build-images: docker build of $repo:$v failed" >&2
    return 1
  fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

digest=$(source_digest)
for v in "${versions[@]}"; do
  image=$repo:$v
  if [[ ${FORCE:-0} != 1 && $(image_label "$image" "$label_source") == "$digest" ]]; then
    echo "$image present"
    continue
  fi
  old=$(image_id "$image")
  build_one "$v" "$digest"
  if [[ $(image_id "$image") != "$old" ]]; then
    remove_if_orphaned "$old"
  fi
  echo "$image built"
done
