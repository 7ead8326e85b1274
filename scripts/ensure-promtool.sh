#!/usr/bin/env bash
# Installs promtool (Debian's `prometheus` package) when it is missing, so the rule checks in
# test/deploy/monitoring-config.test.ts can run on a fresh machine; prints its path.
set -euo pipefail
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "promtool is missing: install Prometheus's promtool (Debian: apt-get install prometheus)" >&2
    exit 1
  fi
  echo "installing promtool (apt-get install prometheus)..." >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2
fi
command -v promtool
