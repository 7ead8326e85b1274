import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config';
import { logger } from '../logger';
import { connectClient, ensureSearchAttributes } from '../temporal';
import { createOrderWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const client = await connectClient(config);
  await ensureSearchAttributes(client, config.TEMPORAL_NAMESPACE);
  await client.connection.close();

  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const { worker, close } = await createOrderWorker({ config, connection });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, temporal: config.TEMPORAL_ADDRESS }, 'worker started');
  try {
    await worker.run(); // returns after SIGINT/SIGTERM once in-flight tasks have finished
  } finally {
    await close();
    await connection.close();
  }
}

main().catch((error) => {
  logger.fatal({ err: error }, 'worker stopped');
  process.exit(1);
});
