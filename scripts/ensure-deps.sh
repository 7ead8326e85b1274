#!/usr/bin/env bash
# Installs what a fresh clone is missing: npm packages (when package-lock.json changed) and the
# generated Prisma client. The Temporal CLI and stripe-mock are built on first use (scripts/lib/services.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.package-lock.stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "installing npm packages..."
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
if [ ! -f src/generated/prisma/client.ts ] || [ prisma/schema.prisma -nt src/generated/prisma/client.ts ]; then
  bash scripts/prisma-generate.sh
fi
