#!/usr/bin/env bash
# Build the local Python base image from Debian packages, for machines where no registry can be
# pulled from. Usage: bash infra/base-image.sh [IMAGE:TAG]   (default mlflowx-base:py311)
# Select it with `mlflowx models build-docker --base-image mlflowx-base:py311` (or
# MLFLOWX_BASE_IMAGE). Idempotent: an existing image is kept unless FORCE=1.
set -euo pipefail
image=${1:-${MLFLOWX_BASE_IMAGE:-mlflowx-base:py311}}
if [ "${FORCE:-0}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image already present"; exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
root=$(mktemp -d /tmp/mlflowx-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
  bookworm "$root" http://deb.debian.org/debian >/dev/null
# Keep the image small: no apt lists, docs or caches.
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/var/cache/apt/*
tar -C "$root" -c . | docker import \
  --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' - "$image" >/dev/null
echo "$image built ($(docker image inspect "$image" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))"
