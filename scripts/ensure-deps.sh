#!/usr/bin/env bash
# Installs what a fresh clone is missing: npm packages (when package-lock.json changed) and the
# generated Prisma client. The Temporal CLI and stripe-mock are built on first use (scripts/lib/services.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.package-lock.stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "installing npm packages..."
  # `npm install` rather than `npm ci`: where npm is set to omit-lockfile-registry-resolved (this
  # project's machines), the lockfile leaves out other platforms' optional packages and `npm ci`
  # refuses it. `npm install` still installs exactly the locked versions.
  npm install --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
if [ ! -f src/generated/prisma/client.ts ] || [ prisma/schema.prisma -nt src/generated/prisma/client.ts ]; then
  bash scripts/prisma-generate.sh
fi
