import { loadConfig } from '../config';
import { followDatabaseLogin } from '../database-login';
import { createDatabase } from '../db';
import { logger } from '../logger';
import { Keyring } from '../keyring';
import { keyringRazorpayGateway } from '../razorpay';
import { createStripe } from '../stripe';
import { connectClient } from '../temporal';
import { createApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig();
  const { prisma, pool } = createDatabase(config.DATABASE_URL);
  const keyring = new Keyring(prisma, config);
  const stopFollowing = await followDatabaseLogin(pool, keyring, config.DATABASE_LOGIN_REFRESH, logger);
  const temporal = await connectClient(config);
  const app = createApp({ config, prisma, temporal, stripe: createStripe(config, keyring), razorpay: keyringRazorpayGateway(config, keyring), logger, keyring });
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
