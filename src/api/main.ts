import { loadConfig } from '../platform/config';
import { followDatabaseLogin } from '../keys/database-login';
import { createDatabase } from '../platform/db';
import { logger } from '../platform/logger';
import { Keyring } from '../keys/keyring';
import { keyringRazorpayGateway } from '../payments/razorpay';
import { createStripe } from '../payments/stripe';
import { connectClient } from '../platform/temporal';
import { createApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig();
  const { prisma, pool } = createDatabase(config.DATABASE_URL);
  const keyring = new Keyring(prisma, config);
  const stopFollowing = await followDatabaseLogin(pool, keyring, config.DATABASE_LOGIN_REFRESH, logger);
  const temporal = await connectClient(config);
  const app = createApp({
    config,
    prisma,
    temporal,
    stripe: createStripe(config, keyring),
    razorpay: keyringRazorpayGateway(config, keyring),
    logger,
    keyring,
  });
  const server = app.listen(config.PORT, () => logger.info({ port: config.PORT }, 'API listening'));
  const shutdown = () => {
    server.close(async () => {
      stopFollowing();
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
