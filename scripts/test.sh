#!/usr/bin/env bash
# `npm test`: type check, lint (ESLint, then Prettier's format check), then every Jest test against real Temporal, PostgreSQL,
# stripe-mock and SMTP (started by test/setup/global-setup.ts). Arguments go to Jest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npx --no-install tsc --noEmit
npx --no-install eslint .
npx --no-install prettier --check . --log-level=warn
exec npx --no-install jest "$@"
