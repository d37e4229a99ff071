#!/usr/bin/env bash
# Build the flow image (infra/flows.Dockerfile) for Prefect's Docker work pool and print its tag
# on stdout (all progress goes to stderr, so `prefect.yaml` can read the tag).
#
# Usage: bash infra/build-flow-image.sh [IMAGE]   (default mlflowx-flows:<content hash>)
# Env:   MLFLOWX_FLOW_IMAGE (use this tag; an existing image is kept), MLFLOWX_BASE_IMAGE (default mlflowx-base:py311), MLFLOWX_DOCKER_CACHE (the image builds'
#        wheel cache, default $MLFLOWX_HOME/docker-cache; this script uses its flow-wheelhouse), PYTHON (default .venv/bin/python).
#
# The wheels are downloaded *inside* the base image: pip evaluates environment markers with the
# interpreter it runs on, and the image's Python (3.11.2) needs wheels the host's does not.
# The host's versions are used as constraints, so the image runs what the tests ran.
set -euo pipefail
caller=$PWD  # mlflowx's home defaults to the working directory (settings.home)
cd "$(dirname "$0")/.."
base=${MLFLOWX_BASE_IMAGE:-mlflowx-base:py311}
py=${PYTHON:-.venv/bin/python}
hash=$( { cat pyproject.toml infra/flows.Dockerfile; echo "$base";
          find mlflowx flows -name '*.py' -o -name '*.ini' -o -name '*.mako' | LC_ALL=C sort | xargs cat; } \
        | sha1sum | cut -c1-12)
image=${1:-${MLFLOWX_FLOW_IMAGE:-mlflowx-flows:$hash}}
if [ "${FORCE:-0}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image already built" >&2; echo "$image"; exit 0
fi
ctx=$(mktemp -d /tmp/mlflowx-flow-image.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
wheels=${MLFLOWX_DOCKER_CACHE:-${MLFLOWX_HOME:-$caller}/docker-cache}/flow-wheelhouse
mkdir -p "$wheels" "$ctx/wheelhouse" "$ctx/own"
echo "building the mlflowx wheel" >&2
"$py" -m pip wheel --quiet --no-deps -w "$ctx/own" . >&2
"$py" -m pip freeze --exclude-editable | grep -v '^mlflowx' | grep -v '^-e ' > "$ctx/constraints.txt"
ca=/etc/ssl/certs/ca-certificates.crt
# The download resolves against the index even when every wheel is cached: skip it when the
# requirements (pyproject, pins) and the base image are the ones the cache was filled for.
stamp="$wheels/.complete-$( { cat pyproject.toml "$ctx/constraints.txt";
  docker image inspect --format '{{.Id}}' "$base"; } | sha1sum | cut -c1-12)"
if [ -e "$stamp" ]; then
  echo "dependency wheels cached in $wheels" >&2
else
  echo "downloading dependency wheels inside $base into $wheels" >&2
  docker run --rm -v "$ca:$ca:ro" -v "$wheels:/wh" -v "$ctx:/ctx:ro" -e PIP_CERT="$ca" "$base" sh -c '
    python3 -m venv /tmp/v && /tmp/v/bin/pip download --quiet --disable-pip-version-check \
      -d /wh -c /ctx/constraints.txt "$(ls /ctx/own/mlflowx-*.whl)[orchestration,serving]"' >&2
  rm -f "$wheels"/.complete-*
  touch "$stamp"
fi
rm -f "$wheels"/mlflowx-*.whl   # the cache keeps dependencies only
cp "$wheels"/* "$ctx/wheelhouse/"
mv "$ctx"/own/*.whl "$ctx/wheelhouse/" && rmdir "$ctx/own"
cp infra/flows.Dockerfile "$ctx/Dockerfile"
cp -r flows "$ctx/flows"
find "$ctx/flows" -name '__pycache__' -prune -exec rm -rf {} +
echo "docker build -t $image (base $base)" >&2
docker build --quiet --rm --build-arg "BASE_IMAGE=$base" -t "$image" "$ctx" >&2
echo "$image"
