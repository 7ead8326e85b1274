# syntax=docker/dockerfile:1
# The production image of durable-commerce: one image for the API (default command), the worker
# and the migrations (docker-compose.yml picks the command). Three stages:
#   build   - every package, the Prisma client generated, TypeScript compiled to dist/ and the
#             workflow bundles prebuilt (npm run build), so nothing is compiled at run time;
#   deps    - production packages only (npm ci --omit=dev) from the same lockfile;
#   runtime - those two, as the unprivileged `node` user, with a HEALTHCHECK.
# Node 22 is an LTS line (maintenance until April 2027); the tag is pinned to a minor release.
ARG NODE_IMAGE=node:22.12-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN bash scripts/prisma-generate.sh && npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --chown=root:root package.json ./
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The migrations are read by dist/scripts/migrate.js.
COPY --from=build --chown=root:root /app/prisma/migrations ./prisma/migrations
# Files owned by root and read-only to the app: the process cannot rewrite its own code.
USER node
EXPOSE 3000 9464
# /livez on PORT (the API) or on HEALTHCHECK_PORT (the worker sets it to its METRICS_PORT).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.HEALTHCHECK_PORT || process.env.PORT || 3000}/livez`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--enable-source-maps", "dist/src/api/main.js"]
