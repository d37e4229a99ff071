#!/usr/bin/env bash
# Install (if needed) and start a local Docker daemon. Idempotent; needs root.
# Used by .ci/run and by developers: `sudo bash infra/docker.sh`.
set -euo pipefail
if ! command -v dockerd >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  log=${DOCKERD_LOG:-/var/log/dockerd.log}
  # setsid: the daemon outlives this script and ignores the caller's terminal signals.
  setsid dockerd >"$log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi
docker info >/dev/null 2>&1 || { echo "dockerd did not start; see ${DOCKERD_LOG:-/var/log/dockerd.log}" >&2; exit 1; }
echo "Docker $(docker version --format '{{.Server.Version}}') ready"
