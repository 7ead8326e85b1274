import { loadConfig } from '../config';
import { createPrisma } from '../db';
import { logger } from '../logger';
import { Keyring } from '../keyring';
import { createStripe } from '../stripe';
import { connectClient } from '../temporal';
import { createApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig();
  const prisma = createPrisma(config.DATABASE_URL);
  const temporal = await connectClient(config);
  const app = createApp({ config, prisma, temporal, stripe: createStripe(config), logger, keyring: new Keyring(prisma, config) });
  const server = app.listen(config.PORT, () => logger.info({ port: config.PORT }, 'API listening'));
  const shutdown = () => {
    server.close(async () => {
      await prisma.$disconnect();
      await temporal.connection.close();
      process.exit(0);
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error) => {
  logger.fatal({ err: error }, 'API failed to start');
  process.exit(1);
});
