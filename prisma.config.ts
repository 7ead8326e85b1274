import { defineConfig } from 'prisma/config';

// The CLI only needs the URL for commands that talk to the database; the application builds
// its own connection from the same variable (src/db.ts).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/durable_commerce',
  },
});
