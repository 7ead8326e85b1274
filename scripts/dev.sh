#!/usr/bin/env bash
# `npm run dev`: the whole system on embedded defaults. See README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec npx --no-install tsx scripts/dev.ts
