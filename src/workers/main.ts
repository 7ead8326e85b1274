/**
 * The worker process: registers search attributes, starts polling, ensures its schedules (key
 * rotation, alerts, backups, low stock) meanwhile, and runs the worker until SIGINT/SIGTERM,
 * which drains it (see shutdownGraceTime in worker.ts); the process exits 0 once drained, and
 * never later than SHUTDOWN_TIMEOUT plus a second.
 */
// First: tracing patches http as it loads (src/workers/start-tracing.ts).
import { tracing } from './start-tracing';
import { ensureLowStockSchedules } from '../inventory/low-stock-schedule';
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
import { ensureBackupSchedule } from '../system/backup-schedule';
import { sdkMetricsAddress, startMetricsServer } from '../monitoring/metrics-server';
import { ensureAlertSchedule } from '../monitoring/alert-schedule';

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
    // The SDK's worker metrics (task latencies, slots, sticky cache), merged into our /metrics.
    ...(config.TEMPORAL_SDK_METRICS_PORT
      ? {
          telemetryOptions: {
            metrics: { prometheus: { bindAddress: sdkMetricsAddress(config.TEMPORAL_SDK_METRICS_PORT) } },
          },
        }
      : {}),
  });
  const metricsServer = config.METRICS_PORT
    ? await startMetricsServer(config.METRICS_PORT, config.TEMPORAL_SDK_METRICS_PORT)
    : undefined;
  const client = await connectClient(config);
  // Before polling: a workflow that sets a search attribute Temporal does not know fails its task.
  await ensureSearchAttributes(client, config.TEMPORAL_NAMESPACE);

  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const { worker, close, workflows } = await createOrderWorker({ config, connection, tracing });
  logger.info(
    {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      temporal: config.TEMPORAL_ADDRESS,
      metricsPort: config.METRICS_PORT,
      workflows, // which bundle: with tracing on, the one with the tracing interceptors
    },
    'worker started',
  );
  // The schedules while the worker already polls, all at once: a dozen round trips (create, or
  // describe and update) that no workflow task waits for, and that on a busy server took several
  // seconds of a restarted worker's start (issue 14: a restarted worker polls within 3 s). A
  // schedule that cannot be ensured still stops the worker, as it did before polling.
  let scheduleFailure: unknown;
  const schedules = Promise.all([
    ensureKeyRotationSchedule(client, config),
    ensureAlertSchedule(client, config),
    ensureBackupSchedule(client, config),
    ensureLowStockSchedules(client, config),
  ])
    .catch((error: unknown) => {
      scheduleFailure = error;
      logger.error({ err: error }, 'the schedules could not be ensured: stopping');
      worker.shutdown();
    })
    .finally(() => client.connection.close());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'draining: no new tasks, finishing those in hand');
      setTimeout(() => {
        logger.error('worker did not drain in time');
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT + 1000).unref();
    });
  }
  try {
    await worker.run(); // returns after SIGINT/SIGTERM once in-flight tasks have finished
    await schedules;
  } finally {
    await close();
    await connection.close();
    metricsServer?.close();
    await tracing?.shutdown(); // the last spans (a workflow that just ended), exported before exit
  }
  if (scheduleFailure) throw scheduleFailure;
  logger.info('worker stopped');
}

main().catch((error) => {
  logger.fatal({ err: error }, 'worker stopped');
  process.exit(1);
});
