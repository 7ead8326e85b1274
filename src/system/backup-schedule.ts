/**
 * The Temporal Schedule that backs the database up every BACKUP_SCHEDULE_INTERVAL (`temporal
 * schedule list` shows it). Created or updated by each worker at start when the interval is
 * set; with it unset (the default, and in tests) there is none, and an existing one is paused.
 */
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { upsertSchedule } from '../platform/temporal';
import type { Config } from '../platform/config';
import type { databaseBackupWorkflow } from '../workflows/database-backup/workflow';

export const backupScheduleId = (config: Pick<Config, 'TEMPORAL_TASK_QUEUE'>) =>
  `${config.TEMPORAL_TASK_QUEUE}-database-backup`;

export async function ensureBackupSchedule(
  client: Client,
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'BACKUP_SCHEDULE_INTERVAL'>,
): Promise<string | undefined> {
  const scheduleId = backupScheduleId(config);
  if (!config.BACKUP_SCHEDULE_INTERVAL) {
    try {
      await client.schedule.getHandle(scheduleId).pause('BACKUP_SCHEDULE_INTERVAL is not set');
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
    return undefined;
  }
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'databaseBackupWorkflow',
    workflowId: 'database-backup',
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [{ reason: 'scheduled backup' }] as Parameters<typeof databaseBackupWorkflow>,
  };
  const spec = { intervals: [{ every: config.BACKUP_SCHEDULE_INTERVAL }] };
  await upsertSchedule(client, { scheduleId, spec, action, policies: { overlap: 'SKIP' } });
  // Paused while the interval was unset; a new schedule is running already (unpausing it is a no-op).
  await client.schedule.getHandle(scheduleId).unpause('BACKUP_SCHEDULE_INTERVAL is set');
  return scheduleId;
}
