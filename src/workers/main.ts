import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { loadConfig } from '../platform/config';
import { logger } from '../platform/logger';
import {
  connectClient,
  ensureKeyRotationSchedule,
  ensureSearchAttributes,
  temporalConnectionOptions,
} from '../platform/temporal';
import { createOrderWorker } from './worker';

// The SDK's own log lines go through the same pino logger as ours, at the configured level.
const sdkLevels: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN' };
const pinoLevels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({
    logger: new DefaultLogger(sdkLevels[config.LOG_LEVEL] ?? 'ERROR', (entry) =>
      logger[pinoLevels[entry.level]]({ ...entry.meta, component: 'temporal-sdk' }, entry.message),
    ),
  });
  const client = await connectClient(config);
  await ensureSearchAttributes(client, config.TEMPORAL_NAMESPACE);
  await ensureKeyRotationSchedule(client, config);
  await client.connection.close();

  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
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
