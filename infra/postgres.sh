#!/usr/bin/env bash
# Install (if needed) and start a local PostgreSQL with a `mlflowx` role and a test database.
# Idempotent; needs root (apt-get, su). Used by .ci/run and by developers: `sudo bash infra/postgres.sh`.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -V | tail -n1)
pg_ctlcluster "$version" main start 2>/dev/null || true
for _ in $(seq 1 30); do
  su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='mlflowx'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"create role mlflowx login password 'mlflowx'\""
su postgres -c "psql -qc \"alter role mlflowx createdb password 'mlflowx'\""
su postgres -c "psql -qtAc \"select 1 from pg_database where datname='mlflowx_test'\"" | grep -q 1 \
  || su postgres -c "psql -qc 'create database mlflowx_test owner mlflowx'"
echo "PostgreSQL $version ready: postgresql://mlflowx:mlflowx@127.0.0.1:5432/mlflowx_test"
