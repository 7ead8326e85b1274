#!/usr/bin/env bash
# Stand-in for Prisma's native schema engine, which this project's machines cannot download.
# `prisma generate` only needs the path to exist; every command that would really need the
# engine (migrate dev, db push, studio) fails here with this message instead of pretending.
echo "prisma: the native schema engine is not installed on this machine." >&2
echo "Apply migrations with 'npm run migrate' (scripts/migrate.ts); write new ones by hand in prisma/migrations/." >&2
exit 1
