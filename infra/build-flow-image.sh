#!/usr/bin/env bash
# Build the flow image for Prefect's Docker work pool and print its tag on stdout (all progress
# goes to stderr, so `prefect.yaml` can read the tag). A thin wrapper of mlflowx's one image
# builder: `python -m mlflowx.docker flow-image` (see mlflowx/docker/flow_image.py).
#
# Usage: bash infra/build-flow-image.sh [IMAGE]   (default mlflowx-flows:<content hash>)
# Env:   MLFLOWX_FLOW_IMAGE (use this tag; an existing image is kept), FORCE=1 (rebuild),
#        MLFLOWX_BASE_IMAGE (default mlflowx-base:py311), MLFLOWX_DOCKER_CACHE (the image builds'
#        wheel cache, default $MLFLOWX_HOME/docker-cache), PYTHON (default .venv/bin/python).
set -euo pipefail
caller=$PWD  # mlflowx's home defaults to the working directory (settings.home)
cd "$(dirname "$0")/.."
export MLFLOWX_HOME=${MLFLOWX_HOME:-$caller}
export MLFLOWX_BASE_IMAGE=${MLFLOWX_BASE_IMAGE:-mlflowx-base:py311}
py=${PYTHON:-.venv/bin/python}
image=${1:-${MLFLOWX_FLOW_IMAGE:-}}
if [ -n "$image" ] && [ "${FORCE:-0}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image already built" >&2; echo "$image"; exit 0
fi
args=(flow-image)
[ -n "$image" ] && args+=(--tag "$image")
[ "${FORCE:-0}" = 1 ] && args+=(--force)
exec "$py" -m mlflowx.docker "${args[@]}"
