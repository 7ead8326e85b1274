FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm install --no-audit --no-fund
COPY . .
RUN bash scripts/prisma-generate.sh
CMD ["npx", "tsx", "src/api/main.ts"]
