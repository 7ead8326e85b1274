/**
 * One scheduled backup of the database: pg_dump on a worker, verified, with retention. A
 * failed dump is retried a few times, then the run fails where `temporal schedule describe`
 * and the Web UI show it.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { DatabaseBackupInput, DatabaseBackupOutcome } from './messages';

const backup = proxyActivities<Activities>({
  startToCloseTimeout: '2h',
  retry: { initialInterval: '1m', maximumAttempts: 3 },
});

export async function databaseBackupWorkflow(input: DatabaseBackupInput): Promise<DatabaseBackupOutcome> {
  return backup.backupDatabase(input);
}
