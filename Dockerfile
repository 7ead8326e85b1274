# One image for the migrate, worker and API services of docker-compose.yml.
FROM node:20-bookworm-slim
WORKDIR /app

COPY package*.json .npmrc ./
# `npm install` rather than `npm ci`: package-lock.json is written on machines that omit other
# platforms' optional packages (@swc/core-darwin-*, ...) from it, and `npm ci` refuses such a
# lockfile as out of sync. `npm install` still installs the locked versions.
RUN npm install --no-audit --no-fund

COPY . .
RUN bash scripts/prisma-generate.sh

EXPOSE 3000
CMD ["npx", "tsx", "src/api/main.ts"]
