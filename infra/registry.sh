#!/usr/bin/env bash
# Install (if needed) and start a local Docker registry on 127.0.0.1:5000 (plain HTTP: Docker
# trusts 127.0.0.0/8 registries without TLS). Idempotent; needs root for the install.
# Used by .ci/run (tests that push project images and have a worker pull them) and developers:
# `sudo bash infra/registry.sh`. MLFLOWX_TEST_REGISTRY=127.0.0.1:5000 points the tests at it.
set -euo pipefail
addr=${REGISTRY_ADDR:-127.0.0.1:5000}
if ! command -v docker-registry >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
fi
if ! curl -fsS "http://$addr/v2/" >/dev/null 2>&1; then
  dir=${REGISTRY_DIR:-/var/tmp/mlflowx-registry}
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<CONF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $addr
CONF
  # setsid: the registry outlives this script and ignores the caller's terminal signals.
  setsid docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
  for _ in $(seq 1 30); do
    curl -fsS "http://$addr/v2/" >/dev/null 2>&1 && break
    sleep 1
  done
fi
curl -fsS "http://$addr/v2/" >/dev/null 2>&1 || { echo "docker-registry did not start on $addr" >&2; exit 1; }
echo "Docker registry ready on $addr"
